import { readFile } from "node:fs/promises";
import * as v from "valibot";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../config/errors.ts";
import { toConfigError } from "../config/issues.ts";
import type { GatewayConfig } from "../config/load.ts";
import { ApiKeySchema } from "../config/settings.ts";

const KeyList = v.array(ApiKeySchema);

/**
 * Brings in the secrets a config points at, so the core never reads files or the
 * environment: API keys from `auth.apiKeysFile` / `auth.apiKeysEnv` are appended to
 * `auth.apiKeys`, and `upstream.credential.valueFromEnv` becomes its value.
 */
export async function resolveSecrets(
  config: GatewayConfig,
  env: Record<string, string | undefined>,
): Promise<GatewayConfig> {
  const { auth, upstream } = config.settings;
  const where = config.file ?? "config";
  if (auth.apiKeysFile) {
    let text: string;
    try {
      text = await readFile(auth.apiKeysFile, "utf8");
    } catch (err) {
      throw new ConfigError({
        file: where,
        path: "auth.apiKeysFile",
        expected: `a readable file (${(err as Error).message})`,
      });
    }
    auth.apiKeys.push(...parseKeys(parseYaml(text), `${auth.apiKeysFile}`));
  }
  if (auth.apiKeysEnv) {
    const text = env[auth.apiKeysEnv];
    if (!text)
      throw new ConfigError({
        file: where,
        path: "auth.apiKeysEnv",
        expected: `the environment variable ${auth.apiKeysEnv} to be set`,
      });
    auth.apiKeys.push(...parseKeys(JSON.parse(text), `$${auth.apiKeysEnv}`));
  }
  const credential = upstream.credential;
  if (credential?.valueFromEnv) {
    const value = env[credential.valueFromEnv];
    if (!value)
      throw new ConfigError({
        file: where,
        path: "upstream.credential.valueFromEnv",
        expected: `the environment variable ${credential.valueFromEnv} to be set`,
      });
    credential.value = value;
  }
  return config;
}

function parseKeys(doc: unknown, source: string) {
  const result = v.safeParse(KeyList, doc);
  if (!result.success) throw toConfigError(result.issues, source);
  return result.output;
}
