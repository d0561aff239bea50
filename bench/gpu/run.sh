#!/bin/bash
# Everything bench/gpu measures, in one device call (about 6 minutes on an H200), most needed first; each step
# starts only while there is time left (LIMIT_S), so a cut-off run still brings back what it finished.
# Usage: OUT=DIR bash bench/gpu/run.sh   ->  DIR/{log.txt, torchvision.json.gz, bench.jsonl.gz, seed.jsonl,
#        llm.json, train.json, graphs.tar.gz}
set -u
O=${OUT:?}; T=/tmp/memlens-gpu; rm -rf $T; mkdir -p $T/legacy $T/dynamo $T/llama
LIMIT_S=${LIMIT_S:-400}; START=$(date +%s)
left() { echo $(( LIMIT_S - ($(date +%s) - START) )); }
exec > >(tee -a $O/log.txt) 2>&1
export PYTHONUNBUFFERED=1
HELDOUT="convnext_tiny swin_t regnet_y_400mf squeezenet1_1 shufflenet_v2_x1_0 mobilenet_v3_large googlenet inception_v3"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, torchvision, transformers, onnx; print(torch.__version__, torch.version.cuda, torch.backends.cudnn.version(), torchvision.__version__, transformers.__version__, onnx.__version__)"

# CPU only, beside the GPU work: held-out graphs (the GPU hidden so they hold no device memory)
( export CUDA_VISIBLE_DEVICES= OMP_NUM_THREADS=4
  python3 bench/gpu/export-legacy.py $T/legacy $HELDOUT
  EXPORT_BUDGET_S=240 python3 bench/gpu/export-dynamo.py $T/dynamo $HELDOUT ) > $T/export-tv.log 2>&1 &
( export CUDA_VISIBLE_DEVICES= OMP_NUM_THREADS=4
  EXPORT_BUDGET_S=300 EXPORT_ONE_S=300 python3 bench/gpu/export-dynamo.py $T/llama llama-1b ) > $T/export-llama.log 2>&1 &

step() { if [ "$(left)" -gt "$1" ]; then echo "== $(date +%T) ${*:2}"; "${@:2}"; else echo "== skipped (time): ${*:2}"; fi; }
export GT_BUDGET_S=$(( $(left) - 230 )); step 60 python3 bench/gpu/measure.py $T/torchvision.json
for spec in "mobilenet_v2 float32 32" "mobilenet_v2 float32 32"; do
  step 200 bash -c "python3 bench/gpu/measure.py --bench-process $spec | grep '^BENCH' >> $T/bench.jsonl"; done
for args in "32 224 bench" "32 224 bench" "8 224 bench" "1 32 bench" "128 224 bench" "8 224" "64 96"; do
  step 150 bash -c "python3 bench/gpu/fresh_seed.py $args | grep '^SEED' >> $O/seed.jsonl"; done
step 140 bash -c "CUDA_MODULE_LOADING=EAGER python3 bench/gpu/fresh_seed.py 1 32 | grep '^SEED' >> $O/seed.jsonl"
step 120 python3 bench/gpu/measure.py --llm $O/llm.json
step 60 python3 bench/measure-train.py $O/train.json
for spec in "resnet18 float32 32" "resnet50 float16 32" "vgg16 float32 8"; do
  step 30 bash -c "python3 bench/gpu/measure.py --bench-process $spec | grep '^BENCH' >> $T/bench.jsonl"; done

echo "== $(date +%T) waiting for exports ($(left) s left)"
for i in $(seq 1 60); do [ -z "$(jobs -rp)" ] && break; [ "$(left)" -lt 5 ] && break; sleep 2; done
kill $(jobs -rp) 2>/dev/null
cat $T/export-tv.log $T/export-llama.log
[ -f $T/torchvision.json ] && gzip -c $T/torchvision.json > $O/torchvision.json.gz
[ -f $T/bench.jsonl ] && gzip -c $T/bench.jsonl > $O/bench.jsonl.gz
cp $T/export-*.log $T/legacy/ 2>/dev/null
tar czf $O/graphs.tar.gz -C $T legacy dynamo llama
ls -la $O; echo "== done in $(( $(date +%s) - START )) s"
