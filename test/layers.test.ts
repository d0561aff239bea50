/**
 * The dependency rule (.dependency-cruiser.cjs, run by `npm test`) on a tree made for it: an upward import, a
 * sibling import and a renderer that computes fail it; the same tree importing only downward passes. The real
 * tree is checked by the `npm test` script itself; this shows the check can fail.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DEPCRUISE = join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");

function cruise(files: Record<string, string>): { code: number | null; out: string } {
  const dir = tempDir("layers");
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" }, include: ["src/**/*.ts"] }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(process.execPath, [DEPCRUISE, "--config", join(ROOT, ".dependency-cruiser.cjs"), "src"], { cwd: dir, encoding: "utf8" });
  return { code: r.status, out: r.stdout + r.stderr };
}

const BASE = {
  "src/sym/expr.ts": "export const one = 1;\n",
  "src/graph/ir.ts": 'import { one } from "../sym/expr.js";\nexport const ir = one;\n',
  "src/contract/report.ts": "export interface Report { total: number }\n",
  "src/memory/profile.ts": 'import type { Report } from "../contract/report.js";\nimport { ir } from "../graph/ir.js";\nexport const r: Report = { total: ir };\n',
  "src/analyze.ts": 'import { r } from "./memory/profile.js";\nexport const analyzed = r;\n',
  "src/report/explain.ts": 'import type { Report } from "../contract/report.js";\nexport const explain = (x: Report): string => String(x.total);\n',
};

test("imports that point down pass the dependency rule", () => {
  const r = cruise(BASE);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /no dependency violations/);
});

test("an upward import fails it, type-only imports included", () => {
  const r = cruise({ ...BASE, "src/graph/ir.ts": 'import type { Report } from "../contract/report.js";\nexport type R = Report;\nexport const ir = 1;\n' });
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /layer-1-imports-upward: src\/graph\/ir\.ts → src\/contract\/report\.ts/);
});

test("a sibling import and a renderer that computes fail it", () => {
  const r = cruise({
    ...BASE,
    "src/formats/onnx.ts": "export const decode = 1;\n",
    "src/shapes/engine.ts": 'import { decode } from "../formats/onnx.js";\nexport const e = decode;\n',
    "src/report/explain.ts": 'import { analyzed } from "../analyze.js";\nexport const explain = (): string => String(analyzed.total);\n',
  });
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /sibling-shapes-imports-formats: src\/shapes\/engine\.ts → src\/formats\/onnx\.ts/);
  assert.match(r.out, /renderers-only-render: src\/report\/explain\.ts → src\/analyze\.ts/);
});
