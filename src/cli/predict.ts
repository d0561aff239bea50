import { defineCommand } from "citty";
import { UsageError } from "../errors.js";
import { bytes } from "../report/format.js";
import { loadImage } from "../runtime/image.js";
import { MemlensModel, type Prediction } from "../runtime/model.js";
import { positiveInt } from "./options.js";
import { preprocessArgs, preprocessOptions } from "./preprocess-args.js";
import { providerArg } from "./profile.js";
import { printOut, printErr } from "./print.js";

export default defineCommand({
  meta: { name: "predict", description: "run the model on images (one batch): top classes" },
  args: {
    model: { type: "positional", description: "model file (.onnx); its sidecar NAME.json or its metadata give labels and preprocessing", required: true },
    "image...": { type: "positional", description: "one or more PNG, JPEG or WebP files, predicted as one batch", required: true },
    top: { type: "string", description: "classes to show per image", default: "3" },
    resize: { type: "boolean", description: "resize images of another size to the model's input size" },
    convert: { type: "boolean", description: "convert gray <-> RGB when the channel count differs" },
    provider: { type: "string", description: "auto|cpu|cuda|webgpu (auto: CUDA where onnxruntime-node has it, else CPU)", default: "auto" },
    json: { type: "boolean", description: "print {\"predictions\": [...]}" },
    ...preprocessArgs,
  },
  async run({ args }) {
    const files = (args._ as string[]).slice(1);
    if (files.length === 0) throw new UsageError("predict needs at least one image: memlens predict MODEL IMAGE...");
    const top = positiveInt(args.top, "--top") ?? 3;
    const model = MemlensModel.load(args.model, { provider: providerArg(args.provider), ...preprocessOptions(args) });
    try {
      const options = { ...(args.resize ? { resize: true } : {}), ...(args.convert ? { convert: true } : {}) };
      model.imageSpec(options); // a model that takes no image fails here, before any image is read
      const images = await Promise.all(files.map((f) => loadImage(f, { ...options, model })));
      const predictions = await model.predict(images, { top });
      for (const note of model.runtime?.notes ?? []) printErr(`memlens: note: ${note}\n`);
      for (const w of model.warnings) printErr(`memlens: warning: ${w}\n`);
      if (args.json) {
        printOut(JSON.stringify({ predictions: predictions.map(({ file, top }) => ({ file, top })) }) + "\n");
      } else {
        const title = `${model.summary.file}, ${bytes(model.summary.weightBytes)} of weights, batch ${images.length}\npreprocessing: ${model.describePreprocessing(options)}`;
        printOut(renderPredictions(predictions, title));
      }
    } finally {
      await model.close();
    }
  },
});

export function renderPredictions(predictions: readonly Prediction[], title: string): string {
  const width = Math.max(...predictions.map((p) => p.file.length));
  const lines = [title];
  for (const p of predictions) {
    const classes = p.top.map((s) => `${s.label ?? `class ${s.index}`} ${(s.score * 100).toFixed(1)}%`).join("   ");
    lines.push(`  ${p.file.padEnd(width)}  ${classes}`);
  }
  return lines.join("\n") + "\n";
}
