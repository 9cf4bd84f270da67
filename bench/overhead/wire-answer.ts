/**
 * The gateway's answer path as the Bun wire client feeds it, without a socket (issue 19,
 * eleventh pass): two trees side by side in one process, each an in-process gateway
 * (`createGateway`, default profile, metrics and the log line on, written nowhere) whose
 * fetch seam does what the wire client does with an answer that arrives in one data callback:
 * a fresh copy of the pod's bytes (head and body, as Bun's socket hands them over), fed to
 * that tree's `ResponseParser` into that tree's `WireCall`, which settles the Response. The
 * pod's answer is upstream.ts's JSON answer as Bun.serve frames it. Less noisy than
 * wire-pod.ts (no pod process), so sub-µs differences on the answer's side show.
 *
 *   npx bun bench/overhead/wire-answer.ts
 * Knobs: WIRE_HEAD (default this checkout), WIRE_BASE (/tmp/base11), WIRE_N (20,000 requests
 * a round), WIRE_CONC (8 at a time), WIRE_ROUNDS (21, alternating A B / B A). Prints process
 * CPU µs per request, medians and the median paired difference.
 */
import { resolve } from "node:path";
import { alternatingRounds, pairedLine, perRequest, postChat } from "../lib/in-process.ts";
import { wireAnswer } from "./bodies.ts";

const env = process.env;
const N = Number(env["WIRE_N"] ?? 20_000);
const CONC = Number(env["WIRE_CONC"] ?? 8);
const ROUNDS = Number(env["WIRE_ROUNDS"] ?? 21);
const ROOTS = {
  head: env["WIRE_HEAD"] ?? resolve(import.meta.dir, "../.."),
  base: env["WIRE_BASE"] ?? "/tmp/base11",
};

const ANSWER = wireAnswer();

async function gateway(root: string) {
  const { createGateway } = await import(resolve(root, "src/gateway.ts"));
  const { parseConfig } = await import(resolve(root, "src/config/load.ts"));
  const { createLogger } = await import(resolve(root, "src/log.ts"));
  const { ResponseParser } = await import(resolve(root, "src/runtime/http1-parse.ts"));
  const { WireCall } = await import(resolve(root, "src/runtime/bun-wire-call.ts"));
  const yaml = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "logLevel: info",
    "endpoints:",
    ...[1, 2, 3, 4].map((p) => `  - { name: pod-${p}, address: "127.0.0.1:${p}", models: [m] }`),
  ].join("\n");
  // One parser per in-flight call is what the pool has (one per socket); calls here settle
  // synchronously, so one parser serves them all.
  let call: InstanceType<typeof WireCall> | undefined;
  const parser = new ResponseParser({
    head: (h: unknown) => call!.head(h),
    body: (c: Uint8Array) => call!.body(c),
  });
  const fetch = (_url: string, init: RequestInit) =>
    new Promise<Response>((res, rej) => {
      call = new WireCall(ANSWER, false, init.signal ?? undefined, res, rej);
      parser.reset(false);
      if (parser.feed(Buffer.from(ANSWER))) call.end();
      call = undefined;
    });
  return createGateway({
    config: parseConfig(yaml, "bench.yaml"),
    logger: createLogger("info", () => {}),
    fetch,
  }) as { fetch(r: Request): Promise<Response> };
}

const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hello" }], max_tokens: 16 });
const apps = { head: await gateway(ROOTS.head), base: await gateway(ROOTS.base) };
const results = await alternatingRounds(apps, ROUNDS, (app) =>
  perRequest(() => postChat(app, body), N, CONC),
);
console.log(pairedLine(`answer path c${CONC}`, results, N));
