/**
 * The browser benches' local server (bench/ort-web-page.ts) serves the page, the current model, its external
 * data and files of onnxruntime-web's dist/, and 404 for anything else. (Paths out of dist/ cannot be asked
 * for at all: the URL parser resolves dot segments and the server never decodes %2f.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { servePage, type Served } from "../bench/ort-web-page.js";

test("the ort-web bench server serves the page, the current model, its data and dist/ files, and nothing else", async () => {
  const current: { value: Served | undefined } = { value: { model: new Uint8Array([1, 2, 3]), external: new Map([["w.bin", new Uint8Array([9])]]) } };
  const server = await servePage("<p>page</p>", current);
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  // node:http sends the path as written (fetch would resolve the dot segments before sending).
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
  const status = async (path: string) => (await get(path)).status;
  try {
    assert.equal(await (await fetch(base + "/")).text(), "<p>page</p>");
    assert.deepEqual([...new Uint8Array(await (await fetch(base + "/model")).arrayBuffer())], [1, 2, 3]);
    assert.equal(await status("/data/w.bin"), 200);
    assert.equal(await status("/data/other.bin"), 404);
    assert.equal(await status("/ort/ort.wasm.min.mjs"), 200);
    assert.equal(await status("/ort/nothing.js"), 404);
    assert.equal(await status("/elsewhere"), 404);
    current.value = undefined;
    assert.equal(await status("/model"), 404);
  } finally {
    server.close();
  }
});
