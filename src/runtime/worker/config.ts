import * as v from "valibot";
import { ConfigError } from "../../config/errors.ts";
import { toConfigError } from "../../config/issues.ts";
import { type GatewayConfig, parseConfig } from "../../config/load.ts";
import { ApiKeySchema } from "../../config/settings.ts";
import type { WorkerEnv } from "./types.ts";

/** Where the config comes from, for error messages. */
export const CONFIG_SOURCE = "GATEWAY_CONFIG";

const KeyList = v.array(ApiKeySchema);

/**
 * The gateway config of a Worker: the YAML text of the `GATEWAY_CONFIG` var, validated
 * like a file, with the settings Workers cannot honour refused (Kubernetes discovery,
 * embedded simulator pods, files) and env-named secrets taken from the Worker's bindings.
 * Throws ConfigError.
 */
export function loadWorkerConfig(env: WorkerEnv): GatewayConfig {
  const text = env.GATEWAY_CONFIG;
  if (typeof text !== "string" || text.trim() === "")
    throw new ConfigError({
      file: CONFIG_SOURCE,
      path: "",
      expected: "the var GATEWAY_CONFIG to hold the gateway's YAML config (see wrangler.toml)",
    });
  const config = parseConfig(text, CONFIG_SOURCE);
  const { settings } = config;
  const refuse = (path: string, expected: string) => {
    throw new ConfigError({ file: CONFIG_SOURCE, path, expected });
  };
  if (settings.kubernetes)
    refuse("kubernetes", "no kubernetes section: Workers have static endpoints only (use Bun or Node)");
  if (settings.simulator)
    refuse(
      "simulator",
      "no simulator section: a Worker cannot listen for pods (run them with `npm run sim`)",
    );
  if (settings.auth.apiKeysFile)
    refuse("auth.apiKeysFile", "no file on Workers: use auth.apiKeysEnv with a Worker secret");
  if (settings.auth.apiKeysEnv) {
    const name = settings.auth.apiKeysEnv;
    const raw = env[name];
    if (typeof raw !== "string" || raw === "")
      refuse("auth.apiKeysEnv", `the Worker secret or var ${name} to hold a JSON list of apiKeys entries`);
    const result = v.safeParse(KeyList, JSON.parse(raw as string));
    if (!result.success) throw toConfigError(result.issues, `$${name}`);
    settings.auth.apiKeys.push(...result.output);
  }
  const credential = settings.upstream.credential;
  if (credential?.valueFromEnv) {
    const value = env[credential.valueFromEnv];
    if (typeof value !== "string" || value === "")
      refuse(
        "upstream.credential.valueFromEnv",
        `the Worker secret or var ${credential.valueFromEnv} to be set`,
      );
    credential.value = value as string;
  }
  return config;
}

/** The Durable Object name for a config: its pool, so one object serves one pool. */
export function poolNameOf(config: GatewayConfig): string {
  return config.pool?.metadata.name ?? config.settings.pool ?? "default";
}
