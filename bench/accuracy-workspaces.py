"""cuDNN convolution workspaces, one number per convolution call: the measurement that would settle the batch-1
and cudnn.benchmark gaps of src/memory/torch/cudnn.ts (see bench/ACCURACY.md). Not run by the test suite.

Run on a CUDA machine with PyTorch and torchvision (about a minute on an H200):
    python3 bench/accuracy-workspaces.py OUT.json
For each torchvision fixture x fp32/fp16 x batch 1/8/32 (and mobilenet_v2 at batch 32 with cudnn.benchmark on),
a hook around every Conv2d call resets the peak counter before the call and reads it after:
    workspace = max_memory_allocated() during the call - memory_allocated() before it - output bytes
(the cuDNN workspace is the only other allocation a convolution makes). Forward 1 is recorded (with
cudnn.benchmark, its workspaces are the trial workspaces: the largest of every engine tried) and forward 2
(the engine that is kept). Add the JSON under bench/groundtruth/ with the device and versions in its name.
"""
import json
import subprocess
import sys

import torch
import torchvision.models as tvm

MODELS = ["mobilenet_v2", "resnet18", "resnet50", "vgg16", "densenet121", "efficientnet_b0", "vit_b_16"]


def measure(name, dtype, batch, bench):
    torch.backends.cudnn.benchmark = bench
    torch.manual_seed(0)
    model = getattr(tvm, name)().eval().to("cuda", dtype)
    x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=dtype)
    calls, state = [], {}

    def pre(mod, args):
        torch.cuda.synchronize()
        state["before"] = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()

    def post(mod, args, out):
        torch.cuda.synchronize()
        out_bytes = out.numel() * out.element_size()
        calls.append({
            "module": mod._name, "input": list(args[0].shape), "weight": list(mod.weight.shape),
            "stride": list(mod.stride), "padding": list(mod.padding), "groups": mod.groups,
            "output_bytes": out_bytes,
            "workspace": torch.cuda.max_memory_allocated() - state["before"] - out_bytes,
        })

    for n, m in model.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            m._name = n
            m.register_forward_pre_hook(pre)
            m.register_forward_hook(post)
    forwards = []
    with torch.inference_mode():
        for _ in range(2):
            calls = []
            y = model(x)
            del y
            forwards.append(calls)
    del model, x
    torch.cuda.empty_cache()
    return {"model": name, "dtype": str(dtype).replace("torch.", ""), "batch": batch, "cudnn_benchmark": bench,
            "forward_1": forwards[0], "forward_2": forwards[1]}


def main():
    if sys.argv[1:2] == ["--benchmark-row"]:
        # A process of its own: PyTorch caches the chosen engine per convolution shape whatever the benchmark
        # flag, so a process that already ran these shapes would not benchmark them again.
        print(json.dumps(measure("mobilenet_v2", torch.float32, 32, True)))
        return
    out = sys.argv[1] if len(sys.argv) > 1 else "conv_workspaces.json"
    bench = subprocess.run([sys.executable, __file__, "--benchmark-row"], capture_output=True, text=True, check=True)
    rows = [json.loads(bench.stdout.strip().splitlines()[-1])]
    for name in MODELS:
        for dtype in (torch.float32, torch.float16):
            for batch in (1, 8, 32):
                rows.append(measure(name, dtype, batch, False))
    env = {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(), "device": torch.cuda.get_device_name(0)}
    with open(out, "w") as f:
        json.dump({"env": env, "runs": rows}, f)
    print(f"wrote {out}: {len(rows)} runs")


if __name__ == "__main__":
    main()
