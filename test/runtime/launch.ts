import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, npmScript, printedPort, ROOT, startChild, waitFor, waitReady } from "./harness.ts";
import type { Launched, LaunchInput } from "./suite.ts";

/**
 * Runs a package.json start script (`start`, `start:node`, `start:deno`) with the test's
 * config on 127.0.0.1 port 0, and reads the port the gateway prints.
 */
export function scriptLauncher(script: string, timeoutMs: number) {
  return async ({ configFile }: LaunchInput): Promise<Launched> => {
    const { argv, env } = npmScript(script);
    const child = startChild([...argv, "--config", configFile, "--port", "0", "--host", "127.0.0.1"], env);
    const port = await waitFor("the gateway's printed URL", () => printedPort(child.output()), {
      timeoutMs,
      child,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, child, timeoutMs);
    return { url, child };
  };
}

/**
 * The project's wrangler.toml with `main` made absolute and the test's config as the
 * GATEWAY_CONFIG var, written to the temp folder so wrangler's own files (bundle, Durable
 * Object storage) stay there.
 */
export function testWranglerToml(yaml: string): string {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const main = /^main\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (!main) throw new Error("wrangler.toml has no main");
  const vars = toml.search(/^\[vars\]/m);
  const withoutVars = vars === -1 ? toml : toml.slice(0, vars);
  return `${withoutVars.replace(/^main\s*=.*$/m, `main = ${JSON.stringify(join(ROOT, main))}`)}
[vars]
GATEWAY_CONFIG = '''
${yaml}'''
`;
}

/** wrangler dev (local workerd) on a free 127.0.0.1 port; offline, no telemetry, no login. */
export function wranglerLauncher(timeoutMs: number) {
  return async ({ yaml, dir }: LaunchInput): Promise<Launched> => {
    const config = join(dir, "wrangler.toml");
    writeFileSync(config, testWranglerToml(yaml));
    const port = await freePort();
    const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
    const child = startChild(
      [
        wrangler,
        "dev",
        "--config",
        config,
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--persist-to",
        join(dir, "state"),
        "--show-interactive-dev-session=false",
        "--log-level",
        "warn",
      ],
      {
        CI: "true",
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_HIDE_BANNER: "true",
        WRANGLER_LOG_PATH: join(dir, "logs"),
        WRANGLER_REGISTRY_PATH: join(dir, "registry"),
      },
    );
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, child, timeoutMs);
    return { url, child };
  };
}
