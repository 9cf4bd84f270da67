/**
 * What the SSE tap costs inside the whole gateway, for a stream that came whole (sse32's
 * shape), against what the rest of a stream's path costs over a JSON answer (issue 19,
 * sixteenth pass). The in-process gateway of ../lib/queued-stream-pod.ts (the pod answering as
 * the Bun wire client hands answers over: the stream queued and ended before the call settles,
 * `whole`), a live heap like the running gateway's, one mode per process, processes alternating:
 *
 *   json    a JSON answer (the reference)
 *   stream  the stream as the gateway answers it (SseAccounting.whole: the frame walk, the
 *           two frame parses, the usage frame cut out)
 *   fake    the same, the tap's pass replaced by a constant result (the usage, the first token
 *           time, 20 content events) and the bytes as they came: the stream path without the tap
 *   fakecut fake, with the usage frame cut out into a new array (as the real pass's cut)
 *   nodrop  the real pass with the usage frame kept: no cut, no new array
 *   nowalk  the tap's pass without its frame walk: the usage frame found by the one search,
 *           parsed and cut out, one content mark (what a pass that did not count content
 *           frames would cost)
 *
 * The last two replace `SseAccounting.prototype.whole` in the process (no source edited);
 * their results are not the gateway's (fewer content events), they are ablations.
 *
 *   npx bun bench/overhead/wire-tap-share.ts [--rounds 5] [--n 40000] [--modes json,stream,fake,nowalk]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chatBody, chatCpu, queuedStreamGateway } from "../lib/queued-stream-pod.ts";
import { STREAM_EVENTS } from "./bodies.ts";

const { values } = parseArgs({
  options: {
    mode: { type: "string" },
    rounds: { type: "string", default: "5" },
    n: { type: "string", default: "40000" },
    heap: { type: "string", default: "400000" },
    modes: { type: "string", default: "json,stream,fake,nowalk" },
  },
});

if (values.mode === undefined) {
  // The driver: one process per mode and round, modes alternating.
  const modes = values.modes.split(",");
  const got = new Map<string, number[]>(modes.map((m) => [m, []]));
  for (let r = 0; r < Number(values.rounds); r++)
    for (const mode of modes) {
      const out = spawnSync(
        process.execPath,
        [import.meta.path, "--mode", mode, "--n", values.n, "--heap", values.heap],
        { encoding: "utf8" },
      );
      const us = Number(/([\d.]+) µs/.exec(out.stdout)?.[1]);
      if (!Number.isFinite(us)) throw new Error(`${mode}: ${out.stdout}${out.stderr}`);
      got.get(mode)!.push(us);
    }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const ref = got.get("json");
  for (const [mode, xs] of got) {
    const vs = ref && mode !== "json" ? ` (+${(med(xs) - med(ref)).toFixed(1)} over json, medians)` : "";
    console.log(
      `${mode.padEnd(7)} best ${Math.min(...xs).toFixed(1)} median ${med(xs).toFixed(1)} µs a request; rounds ${xs.map((x) => x.toFixed(1)).join(" / ")}${vs}`,
    );
  }
  process.exit(0);
}

const mode = values.mode;
const N = Number(values.n);
const kept = Array.from({ length: Number(values.heap) }, (_, i) => ({ i, s: `k${i}` }));
const whole = new TextEncoder().encode(STREAM_EVENTS.join(""));

const root = fileURLToPath(new URL("../..", import.meta.url));
const { SseAccounting } = await import("../../src/proxy/accounting.ts");
const { nextUsageObject } = await import("../../src/proxy/frame-fields.ts");
const { frameJsonIn } = await import("../../src/proxy/sse-frame.ts");

type Result = {
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
  contentEvents: number;
  usage: unknown;
  responseBytes: number;
};
type Inside = { r: Result; drop: boolean };
/** fake's result: what the real pass finds in this stream, set without looking. */
function constantResult(r: Result, bytes: Uint8Array): void {
  const t = performance.now();
  r.firstTokenAt = r.lastTokenAt = t;
  r.contentEvents = 20;
  r.responseBytes = bytes.length;
  r.usage = { promptTokens: 12, completionTokens: 20, cachedTokens: 0 };
}
/** `bytes` without `s`..`e`, in a new array (as the real pass's cut). */
function cutOut(bytes: Uint8Array, s: number, e: number): Uint8Array {
  const out = new Uint8Array(bytes.length - (e - s));
  out.set(bytes.subarray(0, s), 0);
  out.set(bytes.subarray(e), s);
  return out;
}
const proto = SseAccounting.prototype as unknown as { whole(bytes: Uint8Array): Uint8Array | undefined };
if (mode === "fake")
  proto.whole = function (this: Inside, bytes: Uint8Array) {
    constantResult(this.r, bytes);
    return bytes;
  };
else if (mode === "fakecut") {
  // fake, and the usage frame cut out into a new array as the real pass does (where it lies: known)
  const at = nextUsageObject(whole, 0);
  let s = at;
  while (s > 1 && !(whole[s - 1] === 10 && whole[s - 2] === 10)) s--;
  const e = whole.indexOf(10, at) + 2;
  proto.whole = function (this: Inside, bytes: Uint8Array) {
    constantResult(this.r, bytes);
    return cutOut(bytes, s, e);
  };
} else if (mode === "nodrop") {
  // the real pass, the usage frame kept (no cut, no new array)
  const real = proto.whole;
  proto.whole = function (this: Inside, bytes: Uint8Array) {
    this.drop = false;
    return real.call(this, bytes);
  };
} else if (mode === "nowalk")
  proto.whole = function (this: Inside, bytes: Uint8Array) {
    const r = this.r;
    r.responseBytes = bytes.length;
    const at = nextUsageObject(bytes, 0);
    let out = bytes;
    if (at !== -1) {
      let s = at;
      while (s > 1 && !(bytes[s - 1] === 10 && bytes[s - 2] === 10)) s--;
      const e = bytes.indexOf(10, at) + 2;
      const obj = frameJsonIn(bytes, s, e, true);
      const u = obj?.["usage"] as { prompt_tokens: number; completion_tokens: number } | undefined;
      if (u)
        r.usage = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, cachedTokens: 0 };
      if (this.drop) out = cutOut(bytes, s, e);
    }
    const t = performance.now();
    r.firstTokenAt = r.lastTokenAt = t;
    r.contentEvents = 1;
    return out;
  };
else if (mode !== "json" && mode !== "stream") throw new Error(`unknown mode ${mode}`);

const gw = await queuedStreamGateway(root, { stream: whole, delivery: "whole", directStreams: true });
const body = chatBody(mode !== "json");
await chatCpu(gw, body, 5000);
console.log(
  `${mode}: ${(await chatCpu(gw, body, N)).us.toFixed(2)} µs a request (${kept.length} objects kept)`,
);
