"""Training-step memory for what the H200 ground truth has no rows for: mixed precision (autocast bf16),
gradient checkpointing, LoRA, plain SGD and AdamW. The protocol is the ground truth's run_train
(bench/groundtruth/scripts/measure_gpu.py): three steps of zero_grad(set_to_none) / forward / cross_entropy /
backward / step; peak_delta_N is max_memory_allocated during step N minus what was allocated before step 1.

Run on a CUDA machine with torch and torchvision (random weights, nothing downloaded):
    python3 bench/measure-train.py OUT.json
then add it as bench/groundtruth/train-<device>-torch<version>.json (never overwrite one):
`npm run bench:train-accuracy` compares every bench/groundtruth/train-*.json it finds.

Written where no GPU was available: its first run is also its test. Check the `errors` list of the output.
"""
import gc, json, sys, time, traceback

import torch
import torch.nn.functional as F
import torchvision.models as tvm
from torch.utils.checkpoint import checkpoint

DEV = "cuda"
OUT = sys.argv[1] if len(sys.argv) > 1 else "train-extra.json"


def reset():
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()


class Checkpointed(torch.nn.Module):
    """Runs the wrapped block under torch.utils.checkpoint (non-reentrant): only its input is kept."""

    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        return checkpoint(self.block, x, use_reentrant=False)


class LoRALinear(torch.nn.Module):
    """PEFT's LoRA forward: base(x) + lora_B(lora_A(x)) * scaling, the base frozen."""

    def __init__(self, base, r):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.lora_A = torch.nn.Linear(base.in_features, r, bias=False, device=base.weight.device)
        self.lora_B = torch.nn.Linear(r, base.out_features, bias=False, device=base.weight.device)
        torch.nn.init.zeros_(self.lora_B.weight)
        self.scaling = 2.0

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


def checkpoint_blocks(model, name):
    """The blocks memlens checkpoints: ResNet bottlenecks, ViT encoder layers."""
    if name.startswith("resnet"):
        for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
            for i in range(len(stage)):
                stage[i] = Checkpointed(stage[i])
    elif name == "vit_b_16":
        layers = model.encoder.layers
        for key in list(layers._modules):
            layers._modules[key] = Checkpointed(layers._modules[key])


def add_lora(model, r):
    """LoRA on every nn.Linear outside nn.MultiheadAttention (whose forward reads the weights directly)."""
    for p in model.parameters():
        p.requires_grad_(False)
    targets = []
    for parent in model.modules():
        if isinstance(parent, torch.nn.MultiheadAttention):
            continue
        for key, child in parent.named_children():
            if type(child) is torch.nn.Linear:
                targets.append((parent, key, child))
    for parent, key, child in targets:
        setattr(parent, key, LoRALinear(child, r))


def run(name, batch, variant, optimizer, rows):
    rec = {"model": name, "mode": "train", "variant": variant, "optimizer": optimizer, "batch": batch,
           "input": [3, 224, 224]}
    try:
        reset()
        m0 = torch.cuda.memory_allocated()
        torch.manual_seed(0)
        model = getattr(tvm, name)().train().to(DEV)
        if variant == "checkpointing":
            checkpoint_blocks(model, name)
        if variant.startswith("lora"):
            add_lora(model, int(variant[4:]))
        torch.cuda.synchronize()
        rec["weights_alloc"] = torch.cuda.memory_allocated() - m0
        params = [p for p in model.parameters() if p.requires_grad]
        rec["trainable_bytes"] = sum(p.numel() * p.element_size() for p in params)
        opt = {
            "adam": lambda: torch.optim.Adam(params, lr=1e-4),
            "adamw": lambda: torch.optim.AdamW(params, lr=1e-4),
            "sgd": lambda: torch.optim.SGD(params, lr=1e-3),
            "momentum": lambda: torch.optim.SGD(params, lr=1e-3, momentum=0.9),
        }[optimizer]()
        x = torch.randn(batch, 3, 224, 224, device=DEV)
        tgt = torch.randint(0, 1000, (batch,), device=DEV)
        base = torch.cuda.memory_allocated()
        amp = variant == "amp_bf16"
        for i in (1, 2, 3):
            torch.cuda.reset_peak_memory_stats()
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                out = model(x)
                loss = F.cross_entropy(out, tgt)
            torch.cuda.synchronize()
            rec[f"after_forward_{i}"] = torch.cuda.memory_allocated() - base
            loss.backward()
            torch.cuda.synchronize()
            rec[f"after_backward_{i}"] = torch.cuda.memory_allocated() - base
            opt.step()
            torch.cuda.synchronize()
            rec[f"after_step_{i}"] = torch.cuda.memory_allocated() - base
            rec[f"peak_delta_{i}"] = torch.cuda.max_memory_allocated() - base
            rec[f"reserved_peak_{i}"] = torch.cuda.max_memory_reserved()
            del out, loss
        del model, opt, x, tgt, params
    except Exception as e:  # one failed row must not lose the others
        rec["error"] = repr(e)[:300]
        rows["errors"].append([name, variant, traceback.format_exc()[-800:]])
    rows["runs"].append(rec)


def main():
    t0 = time.time()
    rows = {"env": {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
                    "device": torch.cuda.get_device_name(0)}, "runs": [], "errors": []}
    torch.backends.cudnn.benchmark = False
    # Both cuBLAS workspaces (this thread's and the autograd thread's) exist before any row, so every row's base
    # holds them, as in a process that has trained before (memlens: backwardCublasAllocated).
    w = torch.randn(64, 64, device=DEV, requires_grad=True)
    (w @ w).sum().backward()
    del w
    torch.cuda.synchronize()
    plan = [
        ("resnet50", 32, "amp_bf16", "adam"), ("vit_b_16", 32, "amp_bf16", "adam"),
        ("resnet50", 32, "checkpointing", "adam"), ("vit_b_16", 32, "checkpointing", "adam"),
        ("vit_b_16", 32, "lora16", "adamw"), ("resnet50", 32, "lora16", "adam"),
        ("resnet50", 32, "plain", "sgd"), ("vit_b_16", 32, "plain", "adamw"),
    ]
    for name, batch, variant, optimizer in plan:
        run(name, batch, variant, optimizer, rows)
        rows["seconds"] = round(time.time() - t0, 1)
        with open(OUT, "w") as f:
            json.dump(rows, f)
    print(f"wrote {OUT}: {len(rows['runs'])} runs, {len(rows['errors'])} errors, {rows['seconds']} s")


if __name__ == "__main__":
    main()
