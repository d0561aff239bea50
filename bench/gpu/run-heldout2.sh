#!/bin/bash
# A second held-out check, after the cuDNN workspace rule was rewritten from run.sh's data: 6 torchvision models
# no rule has seen (grouped, wide, NAS and fused-MBConv nets) at batches between the measured ones (2, 4, 16, 64),
# and two fixture models at another resolution (320x320). Same protocol as run.sh (bench/gpu/measure.py).
# Usage: OUT=DIR bash bench/gpu/run-heldout2.sh -> DIR/{log.txt, torchvision.json.gz, torchvision-320.json.gz, graphs.tar.gz}
set -u
O=${OUT:?}; T=/tmp/memlens-gpu; rm -rf $T; mkdir -p $T/legacy
exec > >(tee -a $O/log.txt) 2>&1
export PYTHONUNBUFFERED=1
NEW="resnext50_32x4d wide_resnet50_2 mnasnet1_0 efficientnet_v2_s resnet34 vgg11"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
( export CUDA_VISIBLE_DEVICES= OMP_NUM_THREADS=8; python3 bench/gpu/export-legacy.py $T/legacy $NEW ) > $T/export.log 2>&1 &
EXPORT=$!
GT_BUDGET_S=150 GT_MODELS="$NEW" GT_BATCHES="2 4 16 64" python3 bench/gpu/measure.py $T/torchvision.json
GT_BUDGET_S=60 GT_MODELS="resnet50 mobilenet_v2" GT_BATCHES="4 16" GT_HW=320 python3 bench/gpu/measure.py $T/torchvision-320.json
wait $EXPORT  # a bare `wait` also waits for the tee behind `exec > >(...)`: it hung the first run until its time limit
grep -E "OK|FAIL" $T/export.log
gzip -c $T/torchvision.json > $O/torchvision.json.gz
gzip -c $T/torchvision-320.json > $O/torchvision-320.json.gz
tar czf $O/graphs.tar.gz -C $T legacy
ls -la $O
