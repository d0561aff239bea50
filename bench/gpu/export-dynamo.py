"""(bench/gpu copy of bench/groundtruth/scripts/export_dynamo.py: only the models named on the command line.)
Export models with PyTorch's current ONNX exporter (torch.export based, dynamo=True), graph kept, weights external.

Usage: python3 bench/gpu/export-dynamo.py OUTDIR NAME... [llama-1b]   -> OUTDIR/<name>.onnx (+ <name>.onnx.data dropped) and export_log.json
"""
import json, os, signal, sys, time, traceback
import torch, torchvision.models as tvm

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
log = {"torch": torch.__version__, "models": {}}


class Timeout(Exception):
    pass


def alarm(sig, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, alarm)
TV = {
    "mobilenet_v2": tvm.mobilenet_v2, "resnet18": tvm.resnet18, "resnet50": tvm.resnet50, "vgg16": tvm.vgg16,
    "densenet121": tvm.densenet121, "efficientnet_b0": tvm.efficientnet_b0, "convnext_tiny": tvm.convnext_tiny,
    "vit_b_16": tvm.vit_b_16, "swin_t": tvm.swin_t, "regnet_y_400mf": tvm.regnet_y_400mf,
    "squeezenet1_1": tvm.squeezenet1_1, "shufflenet_v2_x1_0": tvm.shufflenet_v2_x1_0,
    "mobilenet_v3_large": tvm.mobilenet_v3_large, "googlenet": lambda: tvm.googlenet(aux_logits=False, init_weights=True),
    "inception_v3": lambda: tvm.inception_v3(aux_logits=False, init_weights=True),
}
T0 = time.time()
BUDGET = float(os.environ.get("EXPORT_BUDGET_S", "300"))


def export(name, model, args, dyn, input_names):
    rec = {}
    t = time.time()
    path = os.path.join(OUT, f"{name}.onnx")
    signal.alarm(int(max(10, min(float(os.environ.get("EXPORT_ONE_S", "90")), BUDGET - (time.time() - T0)))))
    try:
        prog = torch.onnx.export(model, args, dynamo=True, dynamic_shapes=dyn, input_names=input_names)
        prog.save(path, external_data=True)
        rec["ok"] = True
        import onnx
        g = onnx.load(path, load_external_data=False)
        ops = {}
        for n in g.graph.node:
            ops[n.op_type] = ops.get(n.op_type, 0) + 1
        rec["ops"] = ops
        rec["functions"] = len(g.functions)
        rec["opset"] = [(o.domain, o.version) for o in g.opset_import]
        rec["bytes"] = os.path.getsize(path)
    except Timeout:
        rec["error"] = "timeout"
    except Exception:
        rec["error"] = traceback.format_exc()[-600:]
    finally:
        signal.alarm(0)
    for f in os.listdir(OUT):  # weights stay behind: only graphs come back
        if f.startswith(name + ".") and not f.endswith(".onnx"):
            os.remove(os.path.join(OUT, f))
    rec["s"] = time.time() - t
    log["models"][name] = rec
    print(name, "ok" if rec.get("ok") else "FAIL", round(rec["s"], 1), flush=True)
    json.dump(log, open(os.path.join(OUT, "export_log.json"), "w"), indent=1)


B = torch.export.Dim("batch", min=1, max=4096)
NAMES = [a for a in sys.argv[2:] if a in TV]
for name in NAMES:
    build = TV[name]
    if time.time() - T0 > BUDGET:
        break
    torch.manual_seed(0)
    hw = 299 if name == "inception_v3" else 224
    export(name, build().eval(), (torch.randn(2, 3, hw, hw),), {"x": {0: B}}, ["input"])

if "llama-1b" in sys.argv[2:]:  # the ground truth's llama-1b rows (fp16) have no fixture graph
    try:
        import transformers as hf
        S = torch.export.Dim("seq", min=2, max=1024)
        model = hf.LlamaForCausalLM(hf.LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                                                   num_attention_heads=32, num_key_value_heads=4, vocab_size=32000,
                                                   max_position_embeddings=2048)).eval()
        model.config.use_cache = False
        export("llama-1b", model, (torch.randint(0, 1000, (2, 16)),), {"input_ids": {0: B, 1: S}}, ["input_ids"])
    except Exception:
        log["hf_error"] = traceback.format_exc()[-600:]
json.dump(log, open(os.path.join(OUT, "export_log.json"), "w"), indent=1)
