import type { Logger } from "../log.ts";
import type { ConfigHolder } from "./holder.ts";
import { type GatewayConfig, parseConfig } from "./load.ts";

/** Settings read once at start-up; a change to them is logged as needing a restart. */
const RESTART_ONLY = ["port", "hostname", "simulator"] as const;

/**
 * Validates new config text and swaps it in whole. A broken edit is logged and the
 * last good config stays in force; requests already running keep the one they took.
 */
export async function reloadConfig(
  holder: ConfigHolder,
  text: string,
  file: string,
  logger: Logger,
  prepare: (config: GatewayConfig) => GatewayConfig | Promise<GatewayConfig> = (c) => c,
): Promise<boolean> {
  let next: GatewayConfig;
  try {
    next = await prepare(parseConfig(text, file));
  } catch (err) {
    logger.error("config reload rejected; the last good config stays in force", {
      file,
      error: err instanceof Error ? err.message : String(err),
    });
    return false;
  }
  const before = holder.current.settings;
  const restart = RESTART_ONLY.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(next.settings[k]));
  // Keep what was decided at start-up (CLI overrides of port/host) in force.
  for (const k of RESTART_ONLY) (next.settings as Record<string, unknown>)[k] = before[k];
  holder.swap(next);
  logger.info("config reloaded", {
    file,
    rewrites: next.rewrites.map((r) => r.metadata.name),
    objectives: next.objectives.map((o) => o.metadata.name),
    ...(restart.length ? { needsRestart: restart } : {}),
  });
  return true;
}
