import type { GatewayConfig } from "../config/load.ts";
import type { Endpoint } from "../endpoints/types.ts";

/**
 * What the entry prints once it listens: where the gateway is, every endpoint with the
 * models it serves (given in config or learned from its /v1/models), the aliases the
 * rewrites define with their split, and where the metrics are. With several pools, each
 * pool's endpoints and aliases under its name.
 */
export function banner(opts: {
  url: string;
  runtime: string;
  pools: readonly { name: string; endpoints: readonly Endpoint[]; config: GatewayConfig }[];
}): string {
  const lines = [`  gateway   ${opts.url}/v1  (${opts.runtime})`];
  for (const pool of opts.pools) {
    if (opts.pools.length > 1) lines.push(`  pool      ${pool.name}`);
    for (const e of pool.endpoints) {
      const models =
        e.models.size > 0 ? [...e.models].join(", ") : "(models not known yet: asking its /v1/models)";
      lines.push(`  endpoint  ${e.name.padEnd(8)} http://${e.address}  ${models}`);
    }
    for (const alias of pool.config.rewriteTable.aliases()) {
      const split = alias.targets.map((t, i) => `${t} ${formatShare(alias.shares[i] ?? 0)}`).join(", ");
      lines.push(
        `  alias     ${alias.model.padEnd(8)} → ${split}  (InferenceModelRewrite/${alias.rewriteName})`,
      );
    }
  }
  lines.push(`  metrics   ${opts.url}/metrics`);
  return `\n${lines.join("\n")}\n`;
}

function formatShare(share: number): string {
  const pct = share * 100;
  return `${Number.isInteger(pct) ? pct : pct.toFixed(1)}%`;
}
