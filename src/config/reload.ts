import type { Logger } from "../log.ts";
import type { ConfigHolder } from "./holder.ts";
import { type GatewayConfig, parseConfig } from "./load.ts";

/** Settings read once at start-up; a change to them is logged as needing a restart. */
const RESTART_ONLY = ["port", "hostname", "simulator"] as const;

/** How long a file that would remove auth or every endpoint must stay unchanged before it is taken. */
export const DEFAULT_CONFIRM_MS = 3000;

export interface ReloadOptions {
  /** Completes a parsed config (secrets, the cluster's resources, command-line overrides). */
  prepare?: (config: GatewayConfig) => GatewayConfig | Promise<GatewayConfig>;
  /** How long the file has read the same (from the watcher); unknown = settled long enough. */
  stableForMs?: number;
  /** Stability a reload that removes auth or every endpoint needs. Default DEFAULT_CONFIRM_MS. */
  confirmMs?: number;
}

/** true: swapped in; false: refused (logged); `confirmAfterMs`: ask again once the file stayed that much longer. */
export type ReloadResult = boolean | { confirmAfterMs: number };

/**
 * Validates new config text and swaps it in whole. A broken edit is logged and the
 * last good config stays in force; requests already running keep the one they took.
 * An edit that would remove every API key, a key's model limit or every static endpoint is taken only from
 * a file stable for `confirmMs` (a writer may still be mid-file) and is logged at warn.
 */
export async function reloadConfig(
  holder: ConfigHolder,
  text: string,
  file: string,
  logger: Logger,
  opts: ReloadOptions = {},
): Promise<ReloadResult> {
  let next: GatewayConfig;
  try {
    const parsed = parseConfig(text, file);
    next = opts.prepare ? await opts.prepare(parsed) : parsed;
  } catch (err) {
    logger.error("config reload rejected; the last good config stays in force", {
      file,
      error: err instanceof Error ? err.message : String(err),
    });
    return false;
  }
  const before = holder.current;
  const removes = removals(before, next);
  if (removes.length > 0) {
    const confirmMs = opts.confirmMs ?? DEFAULT_CONFIRM_MS;
    const stable = opts.stableForMs ?? Number.POSITIVE_INFINITY;
    if (stable < confirmMs) {
      logger.warn("config edit would remove protection or capacity; waiting for the file to stay unchanged", {
        file,
        removes,
        waitMs: confirmMs - stable,
      });
      return { confirmAfterMs: confirmMs - stable };
    }
  }
  const restart = RESTART_ONLY.filter(
    (k) => JSON.stringify(before.settings[k]) !== JSON.stringify(next.settings[k]),
  );
  // Keep what was decided at start-up in force.
  for (const k of RESTART_ONLY) (next.settings as Record<string, unknown>)[k] = before.settings[k];
  holder.swap(next);
  const fields = {
    file,
    pools: next.pools.map((p) => p.name),
    rewrites: next.pools.flatMap((p) => p.rewrites.map((r) => r.metadata.name)),
    objectives: next.pools.flatMap((p) => p.objectives.map((o) => o.metadata.name)),
    ...(restart.length ? { needsRestart: restart } : {}),
  };
  if (removes.length > 0) logger.warn(`config reloaded: it ${removes.join(" and ")}`, { ...fields, removes });
  else logger.info("config reloaded", fields);
  return true;
}

/**
 * What a reload takes away that would open the gateway (every key, a key's model limit)
 * or leave it with nothing to route to: the shapes a half-written file takes.
 */
function removals(before: GatewayConfig, next: GatewayConfig): string[] {
  const out: string[] = [];
  const a = before.settings.auth;
  const b = next.settings.auth;
  if (a.apiKeys.length > 0 && b.apiKeys.length === 0)
    out.push("removes every API key: inference routes no longer need one");
  if (a.metricsKeys.length > 0 && b.metricsKeys.length === 0)
    out.push("removes every metrics key: /metrics and the dashboard are open");
  // A key whose `models:` line has not been written yet would serve every model.
  for (const key of b.apiKeys) {
    const was = a.apiKeys.find((k) => k.sha256 === key.sha256);
    if (was?.models && !key.models) out.push(`lifts the model limit of API key ${key.name}`);
  }
  if (
    !next.settings.kubernetes &&
    before.settings.endpoints.length > 0 &&
    next.settings.endpoints.length === 0
  )
    out.push("removes every static endpoint");
  return out;
}
