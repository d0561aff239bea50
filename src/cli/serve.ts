/**
 * `memlens serve`: the web page on localhost. The page is one self-contained file (built by
 * scripts/build-web.mjs into dist/web/index.html); the model a user picks is analysed inside the page,
 * so this server only ever sends that one file and never receives a model.
 */
import { defineCommand } from "citty";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";
import { positiveInt } from "./options.js";

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

/** Serves `page` at / on host:port (port 0 picks a free one); every other path is 404. */
export function startServer(page: Buffer, host = "127.0.0.1", port = 0): Promise<Served> {
  const server = createServer((req, res) => {
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
      const shown = host.includes(":") ? `[${host}]` : host;
      resolve({ url: `http://${shown}:${actual}/`, server, close: () => new Promise<void>((done) => server.close(() => done())) });
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
    process.stderr.write(`memlens: serving the web page at ${served.url} (Ctrl-C to stop)\n`);
    await new Promise<void>((done) => process.once("SIGINT", () => void served.close().then(done)));
  },
});
