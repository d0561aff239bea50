import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { UsageError } from "../errors.js";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { hostAllowed, PAGE_PATH, readPage, startServer } from "./serve.js";

test("the server sends the one page at / and nothing else", async () => {
  const page = Buffer.from("<!doctype html><title>t</title>");
  const served = await startServer(page);
  try {
    assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const ok = await fetch(served.url);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(ok.headers.get("cache-control"), "no-store");
    assert.equal(await ok.text(), page.toString());
    assert.equal((await fetch(`${served.url}index.html?x=1`)).status, 200);
    for (const path of ["../package.json", "dist/web/index.html", "favicon.ico"]) assert.equal((await fetch(served.url + path)).status, 404, path);
    assert.equal((await fetch(served.url, { method: "POST", body: "model bytes" })).status, 404);
  } finally {
    await served.close();
  }
});

test("a page that is not built is a usage error that says how to build it", () => {
  assert.throws(() => readPage("/nonexistent/index.html"), (e: unknown) => e instanceof UsageError && /npm run build:web/.test(e.message));
});

test("memlens serve --port 0 serves the built page until Ctrl-C, then exits 0", { skip: !existsSync(PAGE_PATH) && "web page not built (npm run build:web)" }, async () => {
  const child = spawn(process.execPath, ["bin/memlens.js", "serve", "--port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /serving the web page at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<title>memlens/);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGINT");
  assert.equal(await exited, 0);
});

test("bad ports are usage errors", async () => {
  const child = spawn(process.execPath, ["bin/memlens.js", "serve", "--port", "70000"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.equal(code, 1);
  assert.match(stderr, /--port must be at most 65535/);
});

test("serve exits on the first Ctrl-C within 1 s, with one client holding a half-open request and another an idle keep-alive", { skip: !existsSync(PAGE_PATH) && "web page not built (npm run build:web)" }, async () => {
  const child = spawn(process.execPath, ["bin/memlens.js", "serve", "--port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const url = await new Promise<URL>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /serving the web page at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
      if (m) resolve(new URL(m[1]!));
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const open = (data: string) =>
    new Promise<Socket>((resolve) => {
      const s = connect(Number(url.port), "127.0.0.1", () => {
        s.write(data);
        resolve(s);
      });
      s.on("error", () => undefined);
    });
  const halfOpen = await open(`GET / HTTP/1.1\r\nHost: ${url.host}\r\nX-Slow: `);
  const idle = await open(`GET / HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 200));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const start = Date.now();
  child.kill("SIGINT");
  assert.equal(await exited, 0);
  assert.ok(Date.now() - start < 1000, `took ${Date.now() - start} ms`);
  halfOpen.destroy();
  idle.destroy();
});

test("the Host header must name the bound address (DNS rebinding is refused)", async () => {
  const served = await startServer(Buffer.from("<!doctype html><title>t</title>"));
  try {
    const port = Number(new URL(served.url).port);
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: "/", headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    assert.equal(await get(`127.0.0.1:${port}`), 200);
    assert.equal(await get(`localhost:${port}`), 200);
    for (const host of [`attacker.example:${port}`, "attacker.example", `127.0.0.1:${port + 1}`, `localhost.attacker.example:${port}`]) {
      assert.equal(await get(host), 421, host);
    }
  } finally {
    await served.close();
  }
  assert.equal(hostAllowed(undefined, "127.0.0.1", 80), false);
  assert.equal(hostAllowed("192.168.1.5:80", "0.0.0.0", 80), true);
  assert.equal(hostAllowed("rebind.example:80", "0.0.0.0", 80), false);
  assert.equal(hostAllowed("[::1]:80", "::1", 80), true);
});
