"""Held-out graphs for bench:accuracy: torchvision models through PyTorch's TorchScript exporter (dynamo=False,
opset 17, dynamic batch, eval mode, constants folded) as bench/groundtruth/scripts/export_onnx.py exports the
fixtures. Weights go to a side file that is deleted: the graph keeps every initializer's shape and type.

Usage: python3 bench/gpu/export-legacy.py OUTDIR NAME...
"""
import os, sys, time, traceback
import onnx, torch, torchvision.models as tvm

BUILD = {
    "googlenet": lambda: tvm.googlenet(aux_logits=False, init_weights=True),
    "inception_v3": lambda: tvm.inception_v3(aux_logits=False, init_weights=True),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name in sys.argv[2:]:
    t = time.time()
    torch.manual_seed(0)
    model = (BUILD.get(name) or getattr(tvm, name))().eval()
    hw = 299 if name == "inception_v3" else 224
    full = os.path.join(out, f"{name}.full.onnx")
    try:
        torch.onnx.export(model, torch.randn(1, 3, hw, hw), full, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                          do_constant_folding=True, dynamo=False)
        g = onnx.load(full)
        onnx.save_model(g, os.path.join(out, f"{name}.onnx"), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=f"{name}.weights", size_threshold=0)
        print("OK", name, round(time.time() - t, 1), "s", flush=True)
    except Exception:
        print("FAIL", name, traceback.format_exc()[-600:], flush=True)
    for f in os.listdir(out):
        if f.startswith(name + ".") and not f.endswith(".onnx") or f.endswith(".full.onnx"):
            os.remove(os.path.join(out, f))
