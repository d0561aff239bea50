/**
 * int4 weight-only quantization of MatMul and Gemm with com.microsoft MatMulNBits: B is stored 4-bit in
 * blocks of `blockSize` values along K, each block with a float scale and a 4-bit zero point. Activations
 * stay float; the kernel dequantizes B as it multiplies. Conv stays float (MatMulNBits is a MatMul).
 */
import type { Node } from "../graph/ir.js";
import { GraphEditor, intAttr, node } from "./graph-edit.js";
import type { TransformResult } from "./static-qdq.js";
import { keptFloat, quantizableTarget, type Skip } from "./targets.js";
import { quantizeBlocks4 } from "./weights.js";

export interface Int4Options {
  keepFloat: readonly string[];
  blockSize: 32 | 128;
}

export function quantizeInt4(e: GraphEditor, opts: Int4Options): TransformResult {
  const kept = keptFloat(e.nodes, opts.keepFloat, (n) => ["MatMul", "Gemm"].includes(n.opType));
  const skipped: Skip[] = [];
  const quantized: Node[] = [];
  const out: Node[] = [];
  for (const n of e.nodes) {
    if (n.opType === "Conv") {
      skipped.push({ node: n, reason: "int4 (MatMulNBits) applies to MatMul/Gemm weights; convolutions stay float (int8 quantizes them)" });
      out.push(n);
      continue;
    }
    const t = quantizableTarget(e, n, kept, skipped);
    if (!t) {
      out.push(n);
      continue;
    }
    // B as [K, N] (axis 1 = output channels) or [N, K] (Gemm transB).
    const transposed = t.axis === 0;
    const [k, nOut] = transposed ? [t.wDims[1]!, t.wDims[0]!] : [t.wDims[0]!, t.wDims[1]!];
    const qz = quantizeBlocks4(t.wValues, k, nOut, opts.blockSize, transposed);
    const blob = opts.blockSize / 2;
    const b = e.addInitializer(`${t.w}_int4`, "uint8", [nOut, qz.blocksPerCol, blob], qz.packed);
    const scales = e.addInitializer(`${t.w}_scales`, "float32", [nOut * qz.blocksPerCol], qz.scales);
    const zps = e.addInitializer(`${t.w}_zero_points`, "uint8", [qz.zeroPoints.length], qz.zeroPoints);
    const base = n.name || n.outputs[0]!;
    const y = n.outputs[0]!;
    const attrs = { K: intAttr(k), N: intAttr(nOut), bits: intAttr(4), block_size: intAttr(opts.blockSize) };
    if (t.bias === "") {
      out.push(node("MatMulNBits", [t.x, b, scales, zps], [y], e.fresh(`${base}_MatMulNBits`), attrs, "com.microsoft"));
    } else {
      const mm = e.fresh(`${y}_matmul`);
      out.push(node("MatMulNBits", [t.x, b, scales, zps], [mm], e.fresh(`${base}_MatMulNBits`), attrs, "com.microsoft"));
      out.push(node("Add", [mm, t.bias], [y], e.fresh(`${base}_bias_Add`)));
    }
    quantized.push(n);
  }
  e.nodes.splice(0, e.nodes.length, ...out);
  e.dropUnused();
  return { quantized, skipped, warnings: [] };
}
