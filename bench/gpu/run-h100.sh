#!/bin/bash
# The device table's H100 row (nvidia-h100-x1), measured as the H200's was: the context and library kernels
# step by step, fresh seed processes (lazy and eager module loading, cudnn.benchmark), and the 7 fixture models'
# peaks and convolution workspaces (do the H200's cuDNN rules hold on another sm_90 card?).
# Usage: OUT=DIR bash bench/gpu/run-h100.sh -> DIR/{log.txt, context.jsonl, seed.jsonl, torchvision.json.gz}
set -u
O=${OUT:?}; T=/tmp/memlens-gpu; rm -rf $T; mkdir -p $T
exec > >(tee -a $O/log.txt) 2>&1
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 bench/gpu/context.py | grep '^CONTEXT' >> $O/context.jsonl
CUDA_MODULE_LOADING=EAGER python3 bench/gpu/context.py | grep '^CONTEXT' >> $O/context.jsonl
for args in "1 32" "32 224" "128 224" "32 224 bench"; do
  python3 bench/gpu/fresh_seed.py $args | grep '^SEED' >> $O/seed.jsonl; done
CUDA_MODULE_LOADING=EAGER python3 bench/gpu/fresh_seed.py 32 224 | grep '^SEED' >> $O/seed.jsonl
GT_BUDGET_S=100 GT_MODELS="mobilenet_v2 resnet18 resnet50 vgg16 densenet121 efficientnet_b0 vit_b_16" \
  python3 bench/gpu/measure.py $T/torchvision.json
gzip -c $T/torchvision.json > $O/torchvision.json.gz
ls -la $O
