import type { FetchFn } from "../deps.ts";

export type AttemptResult =
  | { kind: "response"; response: Response; controller: AbortController }
  /** Worth trying the next endpoint: refused, reset, timed out, or 503 before any byte. */
  | { kind: "retryable"; reason: string; status?: number; response?: Response }
  /** The client left: stop. */
  | { kind: "client-gone" };

/**
 * One try at one endpoint: POST and wait for response headers, at most
 * `responseTimeoutMs`. A 503 counts as retryable (the caller passes it through when
 * no endpoint is left); its body is kept so it can be shown then.
 */
export async function attempt(opts: {
  fetch: FetchFn;
  url: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
  clientSignal: AbortSignal;
  responseTimeoutMs: number;
}): Promise<AttemptResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("timeout")), opts.responseTimeoutMs);
  try {
    const response = await opts.fetch(opts.url, {
      method: "POST",
      headers: opts.headers,
      body: opts.body,
      signal: AbortSignal.any([opts.clientSignal, controller.signal]),
    });
    if (response.status === 503)
      return { kind: "retryable", reason: "503 from the model server", status: 503, response };
    return { kind: "response", response, controller };
  } catch (err) {
    if (opts.clientSignal.aborted) return { kind: "client-gone" };
    if (controller.signal.aborted)
      return { kind: "retryable", reason: `no response within ${opts.responseTimeoutMs} ms` };
    return { kind: "retryable", reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
