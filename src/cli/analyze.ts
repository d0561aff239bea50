import { defineCommand } from "citty";
import { analyzeModel } from "../analyze.js";
import { renderExplanation } from "../report/explain.js";
import { writeHtmlReport } from "./html-report.js";
import { loadForCli } from "./load.js";
import { isLlmPath } from "../llm/source.js";
import { analyzeLlmCli } from "./llm.js";
import { analyzeOptions, sharedArgs } from "./options.js";

export default defineCommand({
  meta: { name: "analyze", description: "the memory report: weights, activations, peak, allocator, runtime overhead, total" },
  args: { ...sharedArgs, html: { type: "string", description: "write a self-contained HTML report to FILE" } },
  run({ args, rawArgs }) {
    if (isLlmPath(args.model)) return analyzeLlmCli(args.model, args, rawArgs);
    const loaded = loadForCli(args.model);
    const opts = { ...analyzeOptions(args, rawArgs), openExternal: loaded.openExternal, memory: true };
    const { report } = analyzeModel(loaded.model, opts);
    if (args.json) process.stdout.write(JSON.stringify(report) + "\n");
    else process.stdout.write(renderExplanation(report));
    if (args.html) process.stderr.write(`memlens: wrote ${args.html} (${writeHtmlReport(args.html, args.model, report, loaded.model, opts)} bytes)\n`);
  },
});
