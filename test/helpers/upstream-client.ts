import type { FetchFn } from "../../src/deps.ts";
import { bunUpstreamFetch } from "../../src/runtime/bun-wire.ts";

let shared: FetchFn | undefined;

/**
 * The upstream fetch test gateways get when a test gives none: the Bun entry's own (the wire
 * client, src/runtime/bun-wire.ts), so the stack-based e2e suite runs over what `npm start`
 * runs. `GATEWAY_TEST_UPSTREAM=fetch` gives nothing instead (the gateway's default fetch, as
 * Deno and Workers run it).
 */
export function testUpstreamFetch(): { fetch?: FetchFn } {
  if (process.env["GATEWAY_TEST_UPSTREAM"] === "fetch") return {};
  shared ??= bunUpstreamFetch();
  return shared ? { fetch: shared } : {};
}
