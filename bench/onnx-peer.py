"""The peer of `npm run bench:speed`: what Python's onnx does with a model, as a user runs it.

onnx.load without external data (weights stay on disk), then shape inference with data propagation
(symbolic shapes through Shape/Gather/Concat arithmetic, as memlens does). Nothing is printed; the
benchmark times the whole process. Python onnx from Debian's python3-onnx (/usr/bin/python3).
"""
import sys

import onnx
import onnx.shape_inference

model = onnx.load(sys.argv[1], load_external_data=False)
onnx.shape_inference.infer_shapes(model, data_prop=True)
