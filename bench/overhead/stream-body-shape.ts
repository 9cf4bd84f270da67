/**
 * How to hand Bun.serve a stream that arrived whole (the sse32 case, ~4.3 KiB of SSE with
 * the usage frame cut out): CPU per request of a Bun.serve process answering from memory,
 * one body shape per process, processes measured in alternating rounds (A B C A B C ...).
 *
 * Each request does what the gateway's whole-answer path does to the bytes: a 4.4 KiB
 * "socket buffer" (a fresh copy, as the data callback hands it over), the usage frame cut
 * out (the runs around it), and the answer built from what is left. A live heap like the
 * gateway's (400k small objects, `--heap`) and a little per-request garbage, since Bun's
 * cost of a body grows with what the collector has to walk (docs/overhead-streaming.md,
 * seventh pass).
 *
 * Shapes: `bytes` (the join, `new Response(bytes)`: what respond does now), `direct` (a
 * `type: "direct"` stream that writes the join and closes), `direct2` (the same writing the
 * two runs, no join), `whole` (the socket buffer as it came, no cut: what a client that
 * asked for usage gets), `small` (a 0.3 KiB answer as bytes: the JSON reference).
 *
 *   flock /tmp/bench.lock npx bun bench/overhead/stream-body-shape.ts [--rounds 4] [--seconds 3]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    heap: { type: "string", default: "400000" },
    rounds: { type: "string", default: "4" },
    seconds: { type: "string", default: "3" },
    shapes: { type: "string", default: "bytes,direct,direct2,small" },
  },
});

const enc = new TextEncoder();
const frame = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const tok = frame({
  id: "chatcmpl-bench",
  object: "chat.completion.chunk",
  created: 1700000000,
  model: "m",
  choices: [{ index: 0, delta: { content: " tok" }, logprobs: null, finish_reason: null }],
});
const head = tok.repeat(22);
const usage = frame({
  id: "chatcmpl-bench",
  object: "chat.completion.chunk",
  choices: [],
  usage: { prompt_tokens: 12 },
});
const done = "data: [DONE]\n\n";
const wire = enc.encode(head + usage + done);
const cutAt = enc.encode(head).byteLength;
const tailAt = cutAt + enc.encode(usage).byteLength;
const small = enc.encode(
  JSON.stringify({ id: "x", choices: [{ message: { content: "hello ".repeat(30) } }] }),
);

/** What Bun gives a `type: "direct"` stream's pull. */
type DirectController = { write(bytes: Uint8Array): void; close(): void };

if (values.serve) serve(values.serve);
else await drive();

function serve(shape: string): void {
  const live: object[] = [];
  for (let i = 0; i < Number(values.heap); i++) live.push({ i, s: `k${i}`, n: null });
  (globalThis as { live?: unknown }).live = live;
  const headers = { "content-type": "text/event-stream", "cache-control": "no-cache" };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      await req.arrayBuffer();
      const garbage = Array.from({ length: 40 }, (_, i) => ({ i, at: i * 2 }));
      if (garbage.length !== 40) throw new Error("unreachable");
      if (shape === "small") return new Response(Buffer.from(small), { headers });
      const got = Buffer.from(wire); // the socket's buffer, fresh per answer
      const a = got.subarray(0, cutAt);
      const b = got.subarray(tailAt);
      if (shape === "direct2")
        return new Response(
          new ReadableStream({
            type: "direct",
            pull(c: DirectController) {
              c.write(a);
              c.write(b);
              c.close();
            },
          } as unknown as UnderlyingDefaultSource),
          { headers },
        );
      const joined = new Uint8Array(a.byteLength + b.byteLength);
      joined.set(a, 0);
      joined.set(b, a.byteLength);
      if (shape === "whole") return new Response(got, { headers }); // no cut, no join
      if (shape === "bytes") return new Response(joined, { headers });
      return new Response(
        new ReadableStream({
          type: "direct",
          pull(c: DirectController) {
            c.write(joined);
            c.close();
          },
        } as unknown as UnderlyingDefaultSource),
        { headers },
      );
    },
  });
  console.log(JSON.stringify({ port: server.port }));
}

/** User and system CPU ticks of a process (all its threads). */
function ticks(pid: number): [number, number] {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return [Number(f[11]), Number(f[12])];
}

async function drive(): Promise<void> {
  const shapes = values.shapes!.split(",");
  const procs = await Promise.all(
    shapes.map(async (shape) => {
      const child = spawn(
        "taskset",
        ["-c", "1", process.execPath, import.meta.path, "--serve", shape, "--heap", values.heap!],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const port = await new Promise<number>((resolve) =>
        child.stdout!.once("data", (d: Buffer) => resolve(JSON.parse(d.toString()).port)),
      );
      return { shape, child, port };
    }),
  );
  const wrk = (port: number, s: number) =>
    new Promise<number>((resolve) => {
      const w = spawn("taskset", ["-c", "0", "wrk", "-t1", "-c32", `-d${s}s`, `http://127.0.0.1:${port}/`], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      let out = "";
      w.stdout!.on("data", (d) => (out += d));
      w.on("exit", () => resolve(Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)));
    });
  for (const p of procs) await wrk(p.port, 2); // warm-up
  const rows: Record<string, number[]> = {};
  const sys: Record<string, number[]> = {};
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const p of procs) {
      const [u0, s0] = ticks(p.child.pid!);
      const n = await wrk(p.port, Number(values.seconds));
      const [u1, s1] = ticks(p.child.pid!);
      const us = ((u1 - u0 + s1 - s0) * 10_000) / n;
      rows[p.shape] = [...(rows[p.shape] ?? []), Math.round(us * 10) / 10];
      sys[p.shape] = [...(sys[p.shape] ?? []), Math.round(((s1 - s0) * 100_000) / n) / 10];
    }
  }
  for (const [shape, us] of Object.entries(rows)) {
    const sorted = [...us].sort((x, y) => x - y);
    console.log(
      `${shape.padEnd(8)} µs CPU/request: ${us.join(" / ")}  (median ${sorted[sorted.length >> 1]})`,
    );
    console.log(`${"".padEnd(8)} of it system: ${sys[shape]!.join(" / ")}`);
  }
  for (const p of procs) p.child.kill();
}
