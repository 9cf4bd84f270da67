import type { EndpointStore } from "../endpoints/store.ts";
import type { Logger } from "../log.ts";
import type { ConfigHolder } from "./holder.ts";
import type { GatewayConfig } from "./load.ts";

/**
 * Mistakes that load but should be loud: what the file itself flags (resources for a
 * pool that does not exist), and rewrite targets no endpoint serves (every request for
 * that alias would get a 404). The second depends on what the endpoints serve, which
 * discovery learns after start-up, so it is checked again whenever that changes.
 */
export function adviseOn(config: GatewayConfig, store: EndpointStore): string[] {
  const out = [...config.warnings];
  // Endpoints that have not said what they serve count as serving anything: no advice yet.
  if (store.list().length === 0) return out;
  for (const alias of config.rewriteTable.aliases())
    for (const target of alias.targets)
      if (store.serving(target).length === 0)
        out.push(
          `InferenceModelRewrite/${alias.rewriteName} rewrites '${alias.model}' to '${target}', which no endpoint serves: ` +
            `those requests get 404 (check the target's spelling, or the endpoints' models)`,
        );
  return out;
}

/** What pool-level advice needs of a pool. */
interface AdvisedPool {
  readonly name: string;
  readonly config: { readonly current: GatewayConfig };
  readonly endpoints: EndpointStore;
}

/**
 * Advice for every pool (each judged by its own rewrites and endpoints), plus models that
 * two pools serve: those requests all go to the first pool in config order.
 */
export function advisePools(
  config: GatewayConfig,
  pools: readonly AdvisedPool[],
  contested: readonly { model: string; pools: string[] }[] = [],
): string[] {
  const out = new Set(config.warnings);
  for (const p of pools)
    for (const a of adviseOn({ ...p.config.current, warnings: [] }, p.endpoints)) out.add(a);
  for (const c of contested)
    out.add(
      `the model '${c.model}' is served by the pools ${c.pools.map((p) => `'${p}'`).join(", ")}: every request for it goes to '${c.pools[0]}' (the first in config order); remove it from the others or give them an InferenceModelRewrite alias`,
    );
  return [...out];
}

/**
 * Logs each piece of advice once at warn, at start-up and whenever the config or the
 * endpoint sets change; advice that no longer applies is forgotten, so it is logged again
 * if the mistake comes back. Returns a function that stops listening.
 */
export function watchAdvice(opts: {
  config: ConfigHolder;
  pools: {
    list(): readonly AdvisedPool[];
    contested(): { model: string; pools: string[] }[];
    onChange(listener: () => void): () => void;
  };
  logger: Logger;
}): () => void {
  let logged = new Set<string>();
  const check = () => {
    const now = new Set(advisePools(opts.config.current, opts.pools.list(), opts.pools.contested()));
    for (const message of now) if (!logged.has(message)) opts.logger.warn(`config: ${message}`);
    logged = now;
  };
  check();
  const offConfig = opts.config.onSwap(check);
  const offPools = opts.pools.onChange(check);
  return () => {
    offConfig();
    offPools();
  };
}
