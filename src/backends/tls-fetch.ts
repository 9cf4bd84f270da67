import type { FetchFn } from "../deps.ts";

const UNDICI = ["un", "dici"].join("");

/**
 * A fetch that trusts `ca` (PEM) for HTTPS instead of the system's CAs, for a backend whose
 * BackendTLSPolicy names its own CA. Each runtime spells this differently, so this is the one
 * place that asks which runtime it is on: Bun's fetch takes `tls.ca`, Deno an HTTP client
 * built with `caCerts`, Node an undici Agent with `connect.ca`. Workers cannot trust a
 * private CA at all: the request is refused with a clear error there.
 */
export function fetchTrusting(ca: string): FetchFn {
  const g = globalThis as Record<string, unknown>;
  if (g["Bun"]) return (url, init) => fetch(url, { ...init, tls: { ca } } as RequestInit);
  const deno = g["Deno"] as { createHttpClient?: (o: { caCerts: string[] }) => unknown } | undefined;
  if (deno?.createHttpClient) {
    const client = deno.createHttpClient({ caCerts: [ca] });
    return (url, init) => fetch(url, { ...init, client } as RequestInit);
  }
  let dispatcher: Promise<unknown> | undefined;
  return async (url, init) => {
    // A computed specifier: bundlers for the edge (wrangler) must not pull undici in.
    dispatcher ??= import(UNDICI).then((u: typeof import("undici")) => new u.Agent({ connect: { ca } }));
    const d = await dispatcher.catch(() => {
      throw new Error("this runtime cannot trust a configured CA (no undici): use the system's CAs");
    });
    return fetch(url, { ...init, dispatcher: d } as RequestInit);
  };
}
