/**
 * The "runs in the browser?" panel: the wasm heap against its limit, the largest WebGPU buffer against the
 * adapter's limits, and the fix when one does not fit (src/memory/browser.ts computes them).
 */
import type { BrowserCheck } from "../contract/report.js";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export function browserPanel(c: BrowserCheck): string {
  const w = c.wasm;
  const g = c.webgpu;
  const limit = Math.min(g.limits.maxBufferSize, g.limits.maxStorageBufferBindingSize);
  const verdict = (fits: boolean, over: string) => (fits ? `<strong class="fits">fits</strong>` : `<strong class="no-fit">does not fit</strong>, ${over}`);
  const wasmRow = `<tr data-testid="browser-wasm" data-fits="${w.limit.fits}" data-bytes="${w.afterRun2}" data-over-by="${w.limit.overBy}"><th>wasm (CPU)</th><td>${w.limit.fits ? `heap ${mib(w.afterRun2)} after run 2 (${mib(w.afterLoad)} after loading)` : `needs ${mib(w.needed)} at its peak`}, against the ${esc(w.limit.name)}'s ${mib(w.limit.bytes)}</td><td>${verdict(w.limit.fits, `by ${w.limit.overBy.toLocaleString("en-US")} bytes`)}</td></tr>`;
  const gpuRow = `<tr data-testid="browser-webgpu" data-fits="${g.fits}" data-bytes="${g.largestBuffer.bytes}" data-limit="${limit}"><th>WebGPU</th><td>largest buffer '${esc(g.largestBuffer.name)}' ${mib(g.largestBuffer.bytes)} against ${mib(limit)} (maxBufferSize ${g.limits.maxBufferSize.toLocaleString("en-US")}, maxStorageBufferBindingSize ${g.limits.maxStorageBufferBindingSize.toLocaleString("en-US")}; ${esc(g.limits.source)})</td><td>${verdict(g.fits, `by ${(g.largestBuffer.bytes - limit).toLocaleString("en-US")} bytes`)}</td></tr>`;
  const fix = g.fits ? "" : `<p class="note" data-testid="browser-fix">WebGPU fix: ${esc(g.fix)}</p>`;
  const wasmFix = w.limit.fits ? "" : `<p class="note" data-testid="browser-wasm-fix">wasm: the heap cannot grow past ${mib(w.limit.bytes)} (wasm32); onnxruntime-web fails with std::bad_alloc. Use a smaller batch or input, or WebGPU.</p>`;
  return `<section id="browser" data-testid="browser"><h2>Runs in the browser? (onnxruntime-web)</h2><table class="browser">${wasmRow}${gpuRow}</table>${fix}${wasmFix}</section>`;
}
