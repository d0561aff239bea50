/**
 * `memlens serve`: the web page on localhost. The page is one self-contained file (built by
 * scripts/build-web.mjs into dist/web/index.html); the model a user picks is analysed inside the page,
 * so this server only ever sends that one file and never receives a model.
 */
import { defineCommand } from "citty";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";
import { positiveInt } from "./options.js";
import { printErr } from "./print.js";

/** dist/src/cli/serve.js -> dist/web/index.html */
export const PAGE_PATH = fileURLToPath(new URL("../../web/index.html", import.meta.url));

export interface Served {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export function readPage(path = PAGE_PATH): Buffer {
  if (!existsSync(path)) throw new UsageError(`the web page is not built (${path}): run 'npm run build:web'`);
  return readFileSync(path);
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const WILDCARD = new Set(["0.0.0.0", "::", ""]);

/**
 * The Host header a request may carry (DNS rebinding: a web site whose name the attacker re-points at 127.0.0.1
 * reaches this server from the user's browser with `Host: attacker.example`). Accepted: the bound address, and
 * `localhost` for a loopback one; on a wildcard address, IP literals and localhost, never a DNS name.
 */
export function hostAllowed(header: string | undefined, bound: string, port: number): boolean {
  if (header === undefined) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::(\d+))?$/.exec(header.trim().toLowerCase());
  if (!m) return false;
  if (m[2] !== undefined && Number(m[2]) !== port) return false;
  const name = m[1]!.replace(/^\[(.*)\]$/, "$1");
  const b = bound.toLowerCase();
  if (name === b) return true;
  if (name === "localhost") return LOOPBACK.has(b) || WILDCARD.has(b);
  if (WILDCARD.has(b)) return isIP(name) !== 0;
  return LOOPBACK.has(b) && LOOPBACK.has(name);
}

/** Serves `page` at / on host:port (port 0 picks a free one); every other path is 404. */
export function startServer(page: Buffer, host = "127.0.0.1", port = 0): Promise<Served> {
  let boundPort = port;
  const server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, host, boundPort)) {
      res.writeHead(421, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end(`memlens serves http://${host.includes(":") ? `[${host}]` : host}:${boundPort}/ only (Host header ${JSON.stringify(req.headers.host ?? "")} refused)\n`);
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    if ((req.method === "GET" || req.method === "HEAD") && (path === "/" || path === "/index.html")) {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-length": page.length,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      res.end(req.method === "HEAD" ? undefined : page);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("not found: memlens serves one page, at /\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const actual = typeof addr === "object" && addr ? addr.port : port;
      boundPort = actual;
      const shown = host.includes(":") ? `[${host}]` : host;
      // close() alone waits for every open connection: a browser's idle keep-alive, or a client that sent half
      // a request, would hold the server (and Ctrl-C) for minutes. Close them all.
      const close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      resolve({ url: `http://${shown}:${actual}/`, server, close });
    });
  });
}

export default defineCommand({
  meta: { name: "serve", description: "the web page on localhost: choose a model, see its memory (analysed in the browser)" },
  args: {
    port: { type: "string", description: "port (default 8765; 0 picks a free one)", default: "8765" },
    host: { type: "string", description: "address to listen on (default 127.0.0.1: this machine only)", default: "127.0.0.1" },
  },
  async run({ args }) {
    const port = args.port === "0" ? 0 : positiveInt(args.port, "--port");
    if (port !== undefined && port > 65535) throw new UsageError(`--port must be at most 65535, got '${args.port}'`);
    const page = readPage();
    let served: Served;
    try {
      served = await startServer(page, args.host, port ?? 8765);
    } catch (e) {
      throw new UsageError(`cannot listen on ${args.host}:${args.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    printErr(`memlens: serving the web page at ${served.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((done) => process.once("SIGINT", () => void served.close().then(done)));
  },
});
