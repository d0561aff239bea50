/** Running models for calibration and accuracy through the runtime adapter (src/runtime/ort.ts). */
import type { Model } from "../graph/ir.js";
import type { ExternalOpener } from "../formats/onnx/values.js";
import { encodeModel } from "../formats/onnx/writer.js";
import type { HostTensor } from "../runtime/ort.js";

export interface Runner {
  /** Run the model (ONNX bytes) on each batch; `each` gets the outputs named (all when empty). */
  forEach(modelBytes: Uint8Array, batches: readonly HostTensor[], outputs: readonly string[], each: (out: Record<string, HostTensor>) => void): Promise<void>;
}

export function ortRunner(): Runner {
  return {
    async forEach(bytes, batches, _outputs, each) {
      const { createSession } = await import("../runtime/ort.js");
      const session = await createSession(bytes, { provider: "cpu" });
      try {
        const input = session.inputs[0]!.name;
        for (const b of batches) each(await session.run({ [input]: b }));
      } finally {
        await session.release();
      }
    },
  };
}

/** Top-1 class of every image, batch after batch, from the model's first output. */
export async function evaluate(runner: Runner, model: Model, batches: readonly HostTensor[], openExternal?: ExternalOpener): Promise<number[]> {
  const bytes = encodeModel(model, openExternal ? { externalData: "embed", openExternal } : {});
  const output = model.graph.outputs[0]!.name;
  const top: number[] = [];
  await runner.forEach(bytes, batches, [output], (out) => {
    const t = out[output];
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`output '${output}' is not float32`);
    const classes = t.dims[t.dims.length - 1]!;
    const rows = t.data.length / classes;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (t.data[r * classes + c]! > t.data[r * classes + best]!) best = c;
      top.push(best);
    }
  });
  return top;
}
