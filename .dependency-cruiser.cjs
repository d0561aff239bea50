/**
 * memlens's layers, bottom to top: a module may import its own layer's folder and the layers below it, never a
 * layer above, nor a sibling folder of its own layer. `npm test` runs this check (`depcruise`), so an upward
 * import fails the build. Tests and test helpers (`*.test.ts`, `testing.ts`, `gguf-testing.ts`) may reach anywhere.
 *
 * 0  errors.ts, units.ts, sym/ failures, how bytes are written, symbolic dimensions: everyone's vocabulary
 *    (and formats/quote.ts, which quotes names from a file for messages and imports nothing: any layer may use it)
 * 1  graph/                   the model IR (ir.ts), dtypes, weights, topological order
 * 2  shapes/ | formats/       shape inference over the IR | the readers that produce it (siblings: neither
 *                             imports the other; shapes reads tensor values through graph/ir.ts TensorValues)
 * 3  contract/                the Report: what every producer fills and every renderer reads
 * 4  memory/                  runtime profiles: a shape-inferred graph -> the memory a runtime holds
 * 5  llm/                     transformer architectures (config/safetensors/GGUF) -> the same Report
 * 6  analyze.ts               an ONNX graph + settings -> Report
 * 7  pipeline/                every kind of source + settings -> Report, and sweeps over a setting
 * 8  report/                  renderers: Report -> text, HTML, charts (and nothing else)
 * 9  quantize/, runtime/      running models in onnxruntime, rewriting them
 * 10 cli/, index.ts, web/     the front ends
 */
const LAYERS = [
  ["errors.ts", "units.ts", "sym/"],
  ["graph/"],
  ["shapes/", "formats/"],
  ["contract/"],
  ["memory/"],
  ["llm/"],
  ["analyze.ts"],
  ["pipeline/"],
  ["report/"],
  ["quantize/", "runtime/"],
  ["cli/", "index.ts"],
];

/** quantize/ and runtime/ use each other (the library's model facade saves quantized models): not siblings. */
const SIBLINGS_MAY_MEET = new Set(["quantize/|runtime/", "runtime/|quantize/"]);

/** Leaf modules of layer 0 that live in a higher folder (they import nothing). */
const LEAVES = "^src/formats/quote\\.ts$";

const TESTS = "(\\.test\\.ts$|/testing\\.ts$|/gguf-testing\\.ts$)";
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const path = (parts) => `^src/(${parts.map(esc).join("|")})`;

const forbidden = [];
LAYERS.forEach((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  if (above.length > 0) {
    forbidden.push({
      name: `layer-${i}-imports-upward`,
      comment: `${layer.join(", ")} may not import ${above.join(", ")} (a layer above it)`,
      severity: "error",
      from: { path: path(layer), pathNot: TESTS },
      to: { path: path(above), pathNot: LEAVES },
    });
  }
  for (const a of layer) {
    for (const b of layer) {
      if (a === b || SIBLINGS_MAY_MEET.has(`${a}|${b}`)) continue;
      forbidden.push({
        name: `sibling-${a.replace(/\W/g, "")}-imports-${b.replace(/\W/g, "")}`,
        comment: `${a} and ${b} are siblings in one layer: neither imports the other`,
        severity: "error",
        from: { path: path([a]), pathNot: TESTS },
        to: { path: path([b]), pathNot: LEAVES },
      });
    }
  }
});

forbidden.push({
  name: "renderers-only-render",
  comment: "report/ turns a Report into text or HTML: it imports the contract and its own helpers, nothing that computes one",
  severity: "error",
  from: { path: "^src/report/", pathNot: TESTS },
  to: { path: "^src/", pathNot: "^src/(report/|contract/|errors\\.ts$|units\\.ts$|formats/quote\\.ts$)" },
});

forbidden.push({
  name: "web-page-is-a-front-end",
  comment: "nothing in src/ imports the web page",
  severity: "error",
  from: { path: "^src/" },
  to: { path: "^web/" },
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^dist/|^node_modules/)" },
    // TypeScript 7 has no JavaScript API; swc parses the sources, type-only imports included.
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
