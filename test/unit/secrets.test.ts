import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "../../src/auth/keys.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { resolveSecrets } from "../../src/runtime/secrets.ts";
import { testConfig } from "../helpers/config.ts";

const dir = mkdtempSync(join(tmpdir(), "gw-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("keys come from a file and the environment; the pod credential from the environment", async () => {
  const file = join(dir, "keys.yaml");
  writeFileSync(file, `- { name: from-file, sha256: ${await sha256Hex("a")}, tenant: t1 }\n`);
  const config = testConfig({
    auth: { apiKeysFile: file, apiKeysEnv: "GW_KEYS" },
    upstream: { credential: { valueFromEnv: "POD_KEY" } },
  });
  const env = {
    GW_KEYS: JSON.stringify([{ name: "from-env", sha256: await sha256Hex("b") }]),
    POD_KEY: "Bearer x",
  };
  const resolved = await resolveSecrets(config, env);
  expect(resolved.settings.auth.apiKeys.map((k) => k.name)).toEqual(["from-file", "from-env"]);
  expect(resolved.settings.upstream.credential?.value).toBe("Bearer x");
});

test("a missing variable or a bad key list is a config error naming it", async () => {
  await expect(resolveSecrets(testConfig({ auth: { apiKeysEnv: "NOPE" } }), {})).rejects.toBeInstanceOf(
    ConfigError,
  );
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "- { name: x, sha256: not-a-hash }\n");
  const err = await resolveSecrets(testConfig({ auth: { apiKeysFile: bad } }), {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).message).toContain("[0].sha256");
});
