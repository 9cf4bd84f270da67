/** One pod call for a stream through `attempt`, as forward.ts makes it (the hand-over tests). */
import type { FetchFn } from "../../src/deps.ts";
import { attempt } from "../../src/proxy/attempt.ts";

export function streamAttempt(fetch: FetchFn, url: string, wholeStreams: boolean) {
  return attempt({
    fetch,
    url,
    headers: new Headers({ "content-type": "application/json" }),
    body: new TextEncoder().encode("{}") as Uint8Array<ArrayBuffer>,
    clientSignal: new AbortController().signal,
    responseTimeoutMs: 5_000,
    firstByteTimeoutMs: 5_000,
    wholeStreams,
  });
}
