/**
 * The settings bench:ort-web measures and predicts: onnxruntime-web's wasm backend on the fashion model, the 7
 * onnx-legacy fixtures (random weights), bert-base and gpt2 (onnx-dynamo, random weights) at two sequence
 * lengths, and one setting that does not fit the wasm32 heap (vgg16 at a batch whose activations pass 4 GiB).
 */
import { join } from "node:path";
import { DYNAMO_FIXTURES, LEGACY_FIXTURES, REPO_ROOT } from "./shared.js";

export interface OrtWebInput {
  dtype: "float32" | "int64";
  shape: number[];
}

export interface OrtWebSetting {
  /** Stable key: model@batch or model@seq. */
  key: string;
  file: string;
  inputs: Record<string, OrtWebInput>;
  /** Symbol values for memlens (batch, seq). */
  dims: Record<string, number>;
  /** The setting is there to fail: memlens must say it does not fit, and onnxruntime-web must fail. */
  tooBig?: boolean;
}

const image = (name: string, file: string, batch: number, hw: number, tooBig = false): OrtWebSetting => ({
  key: `${name}@b${batch}`,
  file,
  inputs: { input: { dtype: "float32", shape: [batch, 3, hw, hw] } },
  dims: { batch },
  ...(tooBig ? { tooBig } : {}),
});

const text = (name: string, seq: number): OrtWebSetting => ({
  key: `${name}@s${seq}`,
  file: join(DYNAMO_FIXTURES, `${name}.onnx`),
  inputs: { input_ids: { dtype: "int64", shape: [1, seq] } },
  dims: { batch: 1, seq },
});

export const FASHION = join(REPO_ROOT, "models", "fashion-mobilenetv2", "model.onnx");
export const LEGACY_NAMES = ["mobilenet_v2", "resnet18", "resnet50", "vgg16", "densenet121", "efficientnet_b0", "vit_b_16"];

export const ORT_WEB_SETTINGS: readonly OrtWebSetting[] = [
  image("fashion-mobilenetv2", FASHION, 1, 32),
  image("fashion-mobilenetv2", FASHION, 32, 32),
  ...LEGACY_NAMES.map((n) => image(n, join(LEGACY_FIXTURES, `${n}.onnx`), 1, 224)),
  image("mobilenet_v2", join(LEGACY_FIXTURES, "mobilenet_v2.onnx"), 8, 224),
  image("resnet50", join(LEGACY_FIXTURES, "resnet50.onnx"), 8, 224),
  text("bert-base", 128),
  text("bert-base", 512),
  text("gpt2", 128),
  text("gpt2", 512),
  image("vgg16", join(LEGACY_FIXTURES, "vgg16.onnx"), 160, 224, true),
];

/** bench:ort-web's WebGPU rows: the largest buffer onnxruntime-web's WebGPU EP allocates (SwiftShader in chromium). */
export const ORT_WEBGPU_SETTINGS: readonly OrtWebSetting[] = [
  image("fashion-mobilenetv2", FASHION, 1, 32),
  image("vit_b_16", join(LEGACY_FIXTURES, "vit_b_16.onnx"), 1, 224),
  image("resnet50", join(LEGACY_FIXTURES, "resnet50.onnx"), 1, 224),
  text("gpt2", 128),
  text("bert-base", 128),
  // Its first convolution's output (1.96 GiB at batch 160) passes the SwiftShader adapter's 1 GiB buffer limit.
  image("vgg16", join(LEGACY_FIXTURES, "vgg16.onnx"), 160, 224, true),
];
