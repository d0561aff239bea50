/**
 * Fuzz: mutated copies of the GGUF writer's seeds (src/formats/gguf-models.ts ggufFuzzSeeds) through the header
 * reader and the llama.cpp runtime, in-process and through the CLI. Each case ends with a result or a typed
 * error (MemlensError; the CLI: exit 0, or exit 1/2 with exactly one line on stderr), never another exception.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemlensError } from "../src/errors.js";
import { readGguf } from "../src/formats/gguf.js";
import { ggufFuzzSeeds } from "../src/formats/gguf-models.js";
import { xorshift } from "../src/formats/gguf-writer.js";
import { MemorySource } from "../src/formats/source.js";
import { estimateLlamaCpp } from "../src/memory/llamacpp/estimate.js";
import { LLAMACPP_DEFAULTS } from "../src/memory/llamacpp/settings.js";
import { tempDir } from "./temp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CASES = 400;

/** Flip bytes, overwrite a u64 with a huge count, or cut the file short. */
function mutate(bytes: Uint8Array, r: () => number): Uint8Array {
  const out = bytes.slice();
  const kind = r() % 3;
  if (kind === 0) {
    for (let n = 1 + (r() % 8); n > 0; n--) out[r() % out.length] = r() & 255;
  } else if (kind === 1) {
    const at = (r() % Math.max(1, out.length - 8)) & ~3;
    new DataView(out.buffer).setBigUint64(at, BigInt(r()) << BigInt(r() % 32), true);
  } else return out.subarray(0, r() % out.length);
  return out;
}

test("mutated GGUF seeds: the reader and the llama.cpp runtime give a result or one typed error", () => {
  const seeds = ggufFuzzSeeds();
  assert.ok(seeds.length >= 8);
  const r = xorshift(20261203);
  let errors = 0;
  for (let i = 0; i < CASES; i++) {
    const seed = seeds[i % seeds.length]!;
    const bytes = mutate(seed.bytes, r);
    const t0 = Date.now();
    try {
      const g = readGguf(new MemorySource(bytes, seed.name));
      estimateLlamaCpp(g, bytes.length, { ...LLAMACPP_DEFAULTS, ctx: 512, cpu: "avx512" });
    } catch (e) {
      if (!(e instanceof MemlensError)) assert.fail(`case ${i} (${seed.name}): ${(e as Error).stack}`);
      errors++;
    }
    assert.ok(Date.now() - t0 < 2000, `case ${i} took ${Date.now() - t0} ms`);
  }
  assert.ok(errors > 0 && errors < CASES, `${errors} of ${CASES} cases were refused`);
});

test("hostile GGUFs through the CLI: one line on stderr and exit 2", () => {
  const dir = tempDir("gguf-fuzz");
  const seed = ggufFuzzSeeds()[1]!.bytes;
  const cases: [string, Uint8Array][] = [];
  const huge = seed.slice();
  new DataView(huge.buffer).setBigUint64(8, 1n << 40n, true);
  cases.push(["huge-count.gguf", huge]);
  cases.push(["truncated.gguf", seed.subarray(0, seed.length - 100)]);
  const badType = seed.slice();
  // The first tensor's type field: find "token_embd.weight" and step over its name, n_dims and two dims.
  const name = new TextEncoder().encode("token_embd.weight");
  const at = Buffer.from(badType).indexOf(Buffer.from(name)) + name.length + 4 + 16;
  new DataView(badType.buffer).setUint32(at, 99, true);
  cases.push(["unknown-type.gguf", badType]);
  for (const [file, bytes] of cases) {
    const path = join(dir, file);
    writeFileSync(path, bytes);
    const res = spawnSync(process.execPath, [join(ROOT, "bin/memlens.js"), "analyze", path, "--json"], { encoding: "utf8", timeout: 20_000 });
    assert.equal(res.status, 2, `${file}: ${res.stderr}`);
    assert.equal(res.stderr.trim().split("\n").length, 1, `${file}: ${res.stderr}`);
  }
});
