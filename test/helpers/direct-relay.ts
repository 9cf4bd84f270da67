/**
 * The relay's direct source (Bun's `type: "direct"` stream), pulled as Bun.serve pulls it, with
 * a controller that records its calls: `write <text>`, `flush`, `close [message]`, and `abort`
 * for each upstream abort (its reason in `aborts`). `writeResult` answers `write` (default: every
 * byte taken at once). For the tests of the direct loop (relay-direct-chain, relay-wait).
 */
import type { Closing } from "../../src/lifecycle.ts";
import { type ChunkSource, type DirectController, type DirectSource, relay } from "../../src/proxy/relay.ts";
import type { Outcome } from "../../src/scope.ts";
import type { FakeTime } from "./fake-time.ts";

const dec = new TextDecoder();

export function directRelay(
  source: ChunkSource,
  extra: {
    idleTimeoutMs?: number;
    time?: FakeTime;
    closing?: Closing;
    lastEvent?: (chunk: Uint8Array) => boolean;
    writeResult?: () => number | Promise<number>;
  } = {},
) {
  const calls: string[] = [];
  const aborts: string[] = [];
  const ends: Outcome[] = [];
  let src: DirectSource | undefined;
  relay(source, {
    sse: true,
    onEnd: (o) => ends.push(o),
    abortUpstream: (why) => {
      calls.push("abort");
      aborts.push(why);
    },
    idleTimeoutMs: extra.idleTimeoutMs,
    clock: extra.time?.clock,
    setTimer: extra.time?.setTimer,
    closing: extra.closing,
    lastEvent: extra.lastEvent,
    direct: (s) => {
      src = s;
      return new ReadableStream();
    },
  });
  const controller: DirectController = {
    write: (b) => {
      calls.push(`write ${dec.decode(b)}`);
      return extra.writeResult ? extra.writeResult() : b.byteLength;
    },
    flush: () => {
      calls.push("flush");
      return 0;
    },
    close: (err) => calls.push(err ? `close ${err.message}` : "close"),
  };
  const pulled = src!.pull(controller);
  return { calls, aborts, ends, pulled, cancel: (r?: unknown) => src!.cancel(r) };
}
