"""(bench/gpu copy of bench/groundtruth/scripts/fresh_seed.py, unchanged below this line.)
The seed's question in a fresh process: what does a ~14 MB model on a 3 kB image cost on the GPU, all in?"""
import json, os, subprocess, sys, time
t0 = time.time()
import torch, torchvision.models as tvm
b, hw = int(sys.argv[1]), int(sys.argv[2])
bench = len(sys.argv) > 3 and sys.argv[3] == "bench"
torch.backends.cudnn.benchmark = bench
def proc_mib():
    a = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                       capture_output=True, text=True).stdout
    for line in a.strip().splitlines():
        p = [s.strip() for s in line.split(",")]
        if p[0] == str(os.getpid()):
            return int(p[1])
    return None
def dev_used():
    g = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                       capture_output=True, text=True).stdout
    return int(g.strip().splitlines()[0])
r = {"batch": b, "hw": hw, "cudnn_benchmark": bench, "module_loading": os.environ.get("CUDA_MODULE_LOADING"), "dev_used_before": dev_used()}
torch.zeros(1, device="cuda"); torch.cuda.synchronize()
r["proc_after_init"] = proc_mib()
model = tvm.mobilenet_v2().eval().cuda()
torch.cuda.synchronize()
r["weights_alloc"] = torch.cuda.memory_allocated()
r["proc_after_load"] = proc_mib()
x = torch.randn(b, 3, hw, hw, device="cuda")
with torch.inference_mode():
    for _ in range(3):
        y = model(x)
torch.cuda.synchronize()
r["image_bytes_each"] = 3 * hw * hw
r["max_allocated"] = torch.cuda.max_memory_allocated()
r["max_reserved"] = torch.cuda.max_memory_reserved()
r["proc_after_predict"] = proc_mib()
r["dev_used_after"] = dev_used()
r["wall_s"] = time.time() - t0
print("SEED " + json.dumps(r))
