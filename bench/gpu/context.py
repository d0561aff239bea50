"""The CUDA context and library kernels step by step, as bench/groundtruth/scripts/measure_gpu.py section 1 measures them:
this process's device memory (nvidia-smi) after CUDA init, the first sgemm (cuBLAS), the first hgemm, the first
cuDNN convolution and empty_cache, with what the caching allocator reserved at each step. Prints one JSON line.
Usage: python3 bench/gpu/context.py
"""
import json, os, subprocess

import torch


def smi():
    rows = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                          capture_output=True, text=True).stdout.strip().splitlines()
    mine = [int(r.split(",")[1]) for r in rows if r.split(",")[0].strip() == str(os.getpid())]
    total = subprocess.run(["nvidia-smi", "--query-gpu=memory.total,name,driver_version", "--format=csv,noheader,nounits"],
                           capture_output=True, text=True).stdout.strip()
    return {"proc_mib": mine[0] if mine else None, "gpu": total}


steps = []
def step(name):
    torch.cuda.synchronize()
    steps.append({"step": name, "reserved": torch.cuda.memory_reserved(), **smi()})


torch.zeros(1, device="cuda"); step("after_init_1_float")
a = torch.randn(1024, 1024, device="cuda"); (a @ a).sum().item(); step("after_cublas_sgemm")
a16 = a.half(); (a16 @ a16).sum().item(); step("after_cublas_hgemm")
c = torch.nn.functional.conv2d(torch.randn(8, 16, 32, 32, device="cuda"), torch.randn(32, 16, 3, 3, device="cuda"))
c.sum().item(); step("after_cudnn_conv")
del a, a16, c
torch.cuda.empty_cache(); step("after_empty_cache")
print("CONTEXT " + json.dumps({"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
                               "device": torch.cuda.get_device_name(0),
                               "module_loading": os.environ.get("CUDA_MODULE_LOADING"), "steps": steps}))
