"""GPU ground truth that bench/groundtruth/h200-torch2.11.json lacks, measured the way bench/groundtruth/scripts/measure_gpu.py measures
(its run_infer protocol), plus what explains the numbers:

- every torchvision fixture model and 8 models memlens has never been tuned on (held out), fp32/fp16, batch
  1/8/32/128: peak_delta_N (max_memory_allocated during forward N minus what was allocated before forward 1) and
  reserved_peak_N, as in the shared file;
- for every Conv2d call of forwards 1 and 2, its cuDNN workspace: max_memory_allocated during the call minus
  memory_allocated before it minus the output's bytes (a forward hook pair resets the peak before each call;
  hooks allocate nothing). Forward 3 runs without hooks, and its peak and allocator trace are recorded; in the
  shared file forwards 1-3 have the same peak in all 126 inference runs;
- `--bench-process MODEL DTYPE BATCH HW`: one fresh process with cudnn.benchmark on (PyTorch caches the chosen
  engine per convolution shape, so only a fresh process benchmarks): the same records, forward 1's trace too
  (it holds the benchmark's trial workspaces);
- `--llm`: held-out transformers from config (random init), section 5 of measure_gpu.py's protocol.
Environment: GT_MODELS (names), GT_BATCHES ("1 8 32 128"), GT_HW (input height and width), GT_BUDGET_S.

Usage (a CUDA machine with torch, torchvision, transformers; see bench/gpu/run.sh):
    python3 bench/gpu/measure.py OUT.json
"""
import copy, gc, json, os, sys, time, traceback

import torch
import torchvision.models as tvm

FIXTURES = ["mobilenet_v2", "resnet18", "resnet50", "vgg16", "densenet121", "efficientnet_b0", "vit_b_16"]
HELDOUT = ["convnext_tiny", "swin_t", "regnet_y_400mf", "squeezenet1_1", "shufflenet_v2_x1_0", "mobilenet_v3_large",
           "googlenet", "inception_v3"]
BUILD = {
    "googlenet": lambda: tvm.googlenet(aux_logits=False, init_weights=True),
    "inception_v3": lambda: tvm.inception_v3(aux_logits=False, init_weights=True),
}
DTYPES = {"float32": torch.float32, "float16": torch.float16}
T0 = time.time()
BUDGET_S = float(os.environ.get("GT_BUDGET_S", "200"))


def build(name):
    torch.manual_seed(0)
    return (BUILD.get(name) or getattr(tvm, name))().eval()


def hw_of(name):
    if os.environ.get("GT_HW"):
        return int(os.environ["GT_HW"])
    return 299 if name == "inception_v3" else 224


def reset():
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()


def nbytes(t):
    if isinstance(t, torch.Tensor):
        return t.numel() * t.element_size()
    if isinstance(t, (list, tuple)):
        return sum(nbytes(x) for x in t)
    if hasattr(t, "to_tuple"):
        return nbytes(t.to_tuple())
    return 0


def conv_hooks(model, sink):
    """A pre/post hook pair on every Conv2d: the call's workspace and what it keeps."""
    state = {}

    def pre(mod, args):
        torch.cuda.synchronize()
        state["before"] = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()

    def post(mod, args, out):
        torch.cuda.synchronize()
        out_bytes = nbytes(out)
        x = args[0]
        sink[-1].append({
            "module": mod._memlens_name, "input": list(x.shape), "input_contiguous": x.is_contiguous(),
            "weight": list(mod.weight.shape), "stride": list(mod.stride), "padding": list(mod.padding),
            "dilation": list(mod.dilation), "groups": mod.groups, "bias": mod.bias is not None,
            "output": list(out.shape), "output_bytes": out_bytes,
            "kept": torch.cuda.memory_allocated() - state["before"],
            "workspace": torch.cuda.max_memory_allocated() - state["before"] - out_bytes,
        })

    handles = []
    for n, m in model.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            m._memlens_name = n
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
    return handles


def trace_events():
    snap = torch.cuda.memory._snapshot()
    torch.cuda.memory._record_memory_history(enabled=None)
    return [[e["action"], e["addr"], e["size"]] for e in snap["device_traces"][0]]


def run_infer(cpu_model, name, dtype_name, batch, bench, trace_first=False):
    """measure_gpu.py's run_infer, with conv hooks on forwards 1-2 and a hook-free, traced forward 3."""
    dtype = DTYPES[dtype_name]
    hw = hw_of(name)
    rec = {"model": name, "mode": "inference", "dtype": dtype_name, "batch": batch, "input": [3, hw, hw],
           "cudnn_benchmark": bench, "heldout": name not in FIXTURES}
    torch.backends.cudnn.benchmark = bench
    try:
        reset()
        m0 = torch.cuda.memory_allocated()
        model = copy.deepcopy(cpu_model).to("cuda", dtype)
        torch.cuda.synchronize()
        rec["weights_alloc"] = torch.cuda.memory_allocated() - m0
        rec["param_bytes"] = sum(p.numel() * p.element_size() for p in model.parameters())
        rec["buffer_bytes"] = sum(b.numel() * b.element_size() for b in model.buffers())
        x = torch.randn(batch, 3, hw, hw, device="cuda", dtype=dtype)
        rec["input_bytes"] = nbytes(x)
        base = torch.cuda.memory_allocated()
        convs = []
        handles = conv_hooks(model, convs)
        traces = {}
        for i in (1, 2, 3):
            if i == 3:
                for h in handles:
                    h.remove()
            convs.append([])
            torch.cuda.reset_peak_memory_stats()
            traced = i == 3 or (i == 1 and trace_first)
            if traced:
                torch.cuda.memory._record_memory_history(max_entries=400000, context=None, stacks="python")
            t = time.time()
            with torch.inference_mode():
                y = model(x)
            torch.cuda.synchronize()
            rec[f"ms_{i}"] = (time.time() - t) * 1000
            if i == 3:  # forwards 1-2 reset the peak inside every convolution: only forward 3's is the forward's
                rec["peak_delta_3"] = torch.cuda.max_memory_allocated() - base
            rec[f"reserved_peak_{i}"] = torch.cuda.max_memory_reserved()
            rec["output_bytes"] = nbytes(y)
            if traced:
                traces[f"forward_{i}"] = {"base": base, "events": trace_events()}
            del y
        rec["convs_forward_1"], rec["convs_forward_2"] = convs[0], convs[1]
        rec["traces"] = traces
        s = torch.cuda.memory_stats()
        rec["stats"] = {k: s.get(k) for k in ("allocation.all.allocated", "segment.all.peak", "num_alloc_retries")}
        del model, x
    except Exception as e:
        rec["error"] = repr(e)[:300]
        rec["traceback"] = traceback.format_exc()[-800:]
    return rec


def trace_peak(trace):
    """The most allocated at once during a traced forward, over what was allocated before it."""
    if not trace:
        return None
    live = peak = 0
    for action, _, size in trace["events"]:
        live += size if action == "alloc" else -size if action == "free_completed" else 0
        peak = max(peak, live)
    return peak


def init_like_measure_gpu():
    """measure_gpu.py section 1 before any run: CUDA init, an sgemm, an hgemm and a cuDNN convolution, then
    empty_cache. The cuBLAS workspace stays allocated, so it is in every run's base, as in the shared file."""
    torch.zeros(1, device="cuda")
    a = torch.randn(1024, 1024, device="cuda")
    (a @ a).sum().item()
    a16 = a.half()
    (a16 @ a16).sum().item()
    c = torch.nn.functional.conv2d(torch.randn(8, 16, 32, 32, device="cuda"), torch.randn(32, 16, 3, 3, device="cuda"))
    c.sum().item()
    del a, a16, c
    reset()


def env():
    return {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
            "device": torch.cuda.get_device_name(0), "cuda_module_loading": os.environ.get("CUDA_MODULE_LOADING")}


def bench_process(name, dtype_name, batch):
    """A fresh process: cudnn.benchmark on; forward 1 holds the trial workspaces."""
    init_like_measure_gpu()
    rec = run_infer(build(name), name, dtype_name, batch, True, trace_first=True)
    rec["env"] = env()
    rec["peak_delta_1_from_trace"] = trace_peak(rec.get("traces", {}).get("forward_1"))
    print("BENCH " + json.dumps(rec))


def torchvision_runs(out):
    result = {"env": env(), "protocol": __doc__, "runs": []}
    init_like_measure_gpu()
    for name in os.environ.get("GT_MODELS", " ".join(FIXTURES + HELDOUT)).split():
        if time.time() - T0 > BUDGET_S:
            result["stopped_at"] = name
            break
        cpu_model = build(name)
        for dtype_name in DTYPES:
            for batch in [int(b) for b in os.environ.get("GT_BATCHES", "1 8 32 128").split()]:
                result["runs"].append(run_infer(cpu_model, name, dtype_name, batch, False))
        del cpu_model
        result["seconds"] = round(time.time() - T0, 1)
        with open(out, "w") as f:
            json.dump(result, f)
        print(name, result["seconds"], "s", flush=True)


def llm_runs(out):
    """measure_gpu.py section 5 for configs memlens was not tuned on."""
    import transformers as hf
    init_like_measure_gpu()
    cfgs = {
        "qwen2-0.5b": (hf.Qwen2Config(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                                      num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                                      max_position_embeddings=32768, tie_word_embeddings=True), hf.Qwen2ForCausalLM),
        "llama-3.2-1b": (hf.LlamaConfig(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                                        num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                                        max_position_embeddings=131072, tie_word_embeddings=True),
                         hf.LlamaForCausalLM),
    }
    result = {"env": {**env(), "transformers": hf.__version__}, "hf_configs": {k: v[0].to_dict() for k, v in cfgs.items()},
              "runs": []}
    for key, (cfg, cls) in cfgs.items():
        torch.manual_seed(0)
        cpu_model = cls(cfg).eval()
        for dt_name in ("float16",):
            dt = torch.float16
            for b, s in ((1, 128), (8, 128), (8, 512), (32, 128)):
                rec = {"model": key, "mode": "inference", "dtype": dt_name, "batch": b, "seq": s}
                try:
                    reset()
                    m0 = torch.cuda.memory_allocated()
                    model = copy.deepcopy(cpu_model).to("cuda", dt)
                    rec["attn_implementation"] = getattr(model.config, "_attn_implementation", None)
                    torch.cuda.synchronize()
                    rec["weights_alloc"] = torch.cuda.memory_allocated() - m0
                    rec["param_bytes"] = sum(p.numel() * p.element_size() for p in model.parameters())
                    ids = torch.randint(0, cfg.vocab_size, (b, s), device="cuda")
                    base = torch.cuda.memory_allocated()
                    for i in (1, 2):
                        torch.cuda.reset_peak_memory_stats()
                        with torch.inference_mode():
                            y = model(input_ids=ids, use_cache=False)
                        torch.cuda.synchronize()
                        rec[f"peak_delta_{i}"] = torch.cuda.max_memory_allocated() - base
                        rec[f"reserved_peak_{i}"] = torch.cuda.max_memory_reserved()
                        rec["output_bytes"] = nbytes(y)
                        del y
                    if b <= 8 and s == 128:
                        torch.cuda.reset_peak_memory_stats()
                        with torch.inference_mode():
                            g = model.generate(input_ids=ids, max_new_tokens=128, min_new_tokens=128, do_sample=False,
                                               pad_token_id=0)
                        torch.cuda.synchronize()
                        rec["generate_new_tokens"] = 128
                        rec["generate_peak_delta"] = torch.cuda.max_memory_allocated() - base
                        del g
                    del model, ids
                except Exception as e:
                    rec["error"] = repr(e)[:300]
                    rec["traceback"] = traceback.format_exc()[-800:]
                result["runs"].append(rec)
                with open(out, "w") as f:
                    json.dump(result, f)
        del cpu_model
        print(key, round(time.time() - T0, 1), "s", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--bench-process":
        bench_process(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "--llm":
        llm_runs(sys.argv[2])
    else:
        torchvision_runs(sys.argv[1])
