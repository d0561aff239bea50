import { defineCommand } from "citty";
import { isLlmPath } from "../llm/source.js";
import { analyzeOptions, sharedArgs } from "./options.js";

export default defineCommand({
  meta: { name: "analyze", description: "the memory report: weights, activations, peak, allocator, runtime overhead, total" },
  args: { ...sharedArgs, html: { type: "string", description: "write a self-contained HTML report to FILE" } },
  async run({ args, rawArgs }) {
    // Each path imports only what it runs: an LLM config never loads the ONNX shape engine, and back.
    if (isLlmPath(args.model)) {
      const { analyzeLlmCli } = await import("./llm.js");
      return analyzeLlmCli(args.model, args, rawArgs);
    }
    const [{ analyzeModel }, { renderExplanation }, { loadForCli }] = await Promise.all([
      import("../analyze.js"),
      import("../report/explain.js"),
      import("./load.js"),
    ]);
    const loaded = loadForCli(args.model);
    const opts = { ...analyzeOptions(args, rawArgs), openExternal: loaded.openExternal, memory: true };
    const { report } = analyzeModel(loaded.model, opts);
    if (args.json) process.stdout.write(JSON.stringify(report) + "\n");
    else process.stdout.write(renderExplanation(report));
    if (args.html) {
      const { writeHtmlReport } = await import("./html-report.js");
      process.stderr.write(`memlens: wrote ${args.html} (${writeHtmlReport(args.html, args.model, report, loaded.model, opts)} bytes)\n`);
    }
  },
});
