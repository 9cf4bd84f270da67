import type { FetchFn } from "../../src/deps.ts";

export interface UpstreamCall {
  url: string;
  headers: Headers;
  body: Record<string, unknown>;
  signal: AbortSignal | undefined;
}

/**
 * An injected fetch that records what the gateway sent and answers with `respond`.
 * Addresses listed in `down` refuse connections like a dead pod (fetch rejects).
 */
export function fakeUpstream(
  respond: (call: UpstreamCall) => Response | Promise<Response> = (call) =>
    Response.json({ object: "chat.completion", model: call.body["model"], choices: [] }),
  down: string[] = [],
) {
  const calls: UpstreamCall[] = [];
  const fetch: FetchFn = async (url, init) => {
    const call = {
      url,
      headers: new Headers(init.headers),
      body: JSON.parse(new TextDecoder().decode(init.body as Uint8Array)),
      signal: init.signal ?? undefined,
    };
    calls.push(call);
    if (down.some((d) => url.includes(d))) throw new TypeError(`connect ECONNREFUSED ${url}`);
    return respond(call);
  };
  return { fetch, calls };
}
