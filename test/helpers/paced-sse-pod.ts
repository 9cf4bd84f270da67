/**
 * A real pod on a loopback port that answers every request with `frames` as an event stream
 * (chunked), one frame at a time as the test asks for it: the first with the head, each next
 * one on `next()`, and the end on the `next()` after the last. A test that calls `next()` once
 * it has seen a frame gets every frame in a socket read of its own, whatever the machine's
 * timing (issue 19: how a paced stream reaches the relay). Counts the answers its client cut off
 * before their end (`cut`).
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface PacedSsePod {
  url: string;
  /** Answers cut off before their end: the pod saw its client go. */
  readonly cut: number;
  /** Settles when the next answer is cut off (no polling on real time). */
  nextCut(): Promise<void>;
  /** The latest answer's next frame, or its end after the last one. */
  next(): void;
  close(): void;
}

export async function pacedSsePod(frames: readonly string[]): Promise<PacedSsePod> {
  let cut = 0;
  let onCut: (() => void) | undefined;
  let answer: ServerResponse | undefined;
  let sent = 0;
  const server = createServer((req, res) => {
    res.once("close", () => {
      if (res.writableEnded) return;
      cut++;
      onCut?.();
      onCut = undefined;
    });
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    answer = res;
    sent = 0;
    next();
  });
  function next(): void {
    const res = answer;
    if (!res || res.destroyed || res.writableEnded) return;
    if (sent === frames.length) res.end();
    else res.write(frames[sent++]);
  }
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`,
    get cut() {
      return cut;
    },
    nextCut: () => new Promise<void>((ok) => (onCut = ok)),
    next,
    close: () => server.close(),
  };
}
