/**
 * A real pod on a loopback port that answers every request with `frames` as an event stream,
 * one frame every `intervalMs` (chunked), and counts the answers its client cut off before
 * their end (`cut`): for tests of how a paced stream reaches the relay (issue 19, twelfth pass).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface PacedSsePod {
  url: string;
  /** Answers cut off before their end: the pod saw its client go. */
  readonly cut: number;
  /** Settles when the next answer is cut off (no polling on real time). */
  nextCut(): Promise<void>;
  close(): void;
}

export async function pacedSsePod(frames: readonly string[], intervalMs: number): Promise<PacedSsePod> {
  let cut = 0;
  let onCut: (() => void) | undefined;
  const server = createServer((req, res) => {
    res.once("close", () => {
      if (res.writableEnded) return;
      cut++;
      onCut?.();
      onCut = undefined;
    });
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (i === frames.length) return res.end();
      res.write(frames[i++]);
      setTimeout(next, intervalMs);
    };
    next();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`,
    get cut() {
      return cut;
    },
    nextCut: () => new Promise<void>((ok) => (onCut = ok)),
    close: () => server.close(),
  };
}
