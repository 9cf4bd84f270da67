/**
 * The floor under Node: node:http + undici's `request` (the undici package from
 * node_modules, not Node's bundled fetch). Reads the body, parses the JSON, forwards the
 * bytes round-robin to the upstreams with the client's headers (minus hop-by-hop), and
 * streams the answer back. `--client fetch` uses Node's global fetch instead (the client
 * the gateway itself uses under Node), to tell the HTTP client's cost from the rest.
 *
 * Bundled for Node with `bun build --target=node` by the benchmark (run.ts), then:
 *   node bare-node.mjs --port 0 --upstreams 127.0.0.1:8001,... [--client undici|fetch]
 * prints one line `{"port":N}` once listening.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    hostname: { type: "string", default: "127.0.0.1" },
    upstreams: { type: "string" },
    client: { type: "string", default: "undici" },
  },
});
const upstreams = (values.upstreams ?? "").split(",").map((a) => `http://${a}`);
if (upstreams.length === 0 || !upstreams[0])
  throw new Error("--upstreams host:port[,host:port...] is required");
let next = 0;
const agent = new Agent({ keepAliveTimeout: 30_000, connections: null, pipelining: 1 });

const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host", "content-length", "upgrade"]);
/** Answers keep their content-length (a JSON answer then needs no chunked framing). */
const HOP_DOWN = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade"]);

function forwardHeaders(raw: IncomingMessage["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in raw) {
    const value = raw[key];
    if (HOP.has(key) || value === undefined) continue;
    out[key] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function viaUndici(url: string, headers: Record<string, string>, body: Buffer, res: ServerResponse) {
  const up = await request(url, { method: "POST", headers, body, dispatcher: agent });
  const out: Record<string, string | string[]> = {};
  for (const key in up.headers) {
    const value = up.headers[key];
    if (!HOP_DOWN.has(key) && value !== undefined) out[key] = value;
  }
  res.writeHead(up.statusCode, out);
  for await (const chunk of up.body) res.write(chunk);
  res.end();
}

async function viaFetch(url: string, headers: Record<string, string>, body: Buffer, res: ServerResponse) {
  const up = await fetch(url, {
    method: "POST",
    headers,
    body: body as Uint8Array<ArrayBuffer>, // a Buffer is a Uint8Array; no copy
  });
  const out: Record<string, string> = {};
  up.headers.forEach((value, key) => {
    if (!HOP_DOWN.has(key)) out[key] = value;
  });
  res.writeHead(up.status, out);
  if (up.body) for await (const chunk of up.body) res.write(chunk);
  res.end();
}

const forward = values.client === "fetch" ? viaFetch : viaUndici;

const server = createServer((req, res) => {
  void (async () => {
    try {
      const body = await readBody(req);
      const json = JSON.parse(body.toString("utf8")) as { model?: unknown };
      if (typeof json.model !== "string") {
        res.writeHead(400).end("model missing");
        return;
      }
      const upstream = upstreams[next++ % upstreams.length]!;
      await forward(upstream + (req.url ?? "/"), forwardHeaders(req.headers), body, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(502).end(String(err));
      else res.destroy();
    }
  })();
});
server.keepAliveTimeout = 0;
// A clean exit on SIGTERM, so that `node --cpu-prof` writes its profile.
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
server.listen(Number(values.port), values.hostname, () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
