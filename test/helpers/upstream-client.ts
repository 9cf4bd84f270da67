import type { FetchFn } from "../../src/deps.ts";
import { bunUpstreamFetch } from "../../src/runtime/bun-wire.ts";

let shared: FetchFn | undefined;

/**
 * The upstream fetch test gateways get when a test gives none: with
 * `GATEWAY_TEST_UPSTREAM=wire` the Bun entry's own (the wire client, src/runtime/bun-wire.ts),
 * so the whole e2e suite runs over it; otherwise nothing (the gateway's default, Bun's fetch).
 */
export function testUpstreamFetch(): { fetch?: FetchFn } {
  if (process.env["GATEWAY_TEST_UPSTREAM"] !== "wire") return {};
  shared ??= bunUpstreamFetch();
  return shared ? { fetch: shared } : {};
}
