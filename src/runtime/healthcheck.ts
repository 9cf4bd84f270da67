/**
 * The image's HEALTHCHECK: asks the running gateway's /healthz on the port it was really
 * started with. The gateway is PID 1 of its container, so its flags come from
 * /proc/1/cmdline; then the same precedence as start-up: --port, GATEWAY_PORT / PORT, the
 * config file's `port`, 8080. Exits 0 when healthy, 1 otherwise.
 *
 *   bun run src/runtime/healthcheck.ts
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../config/load.ts";
import { parseCli } from "./cli.ts";

const DEFAULT_CONFIG = fileURLToPath(new URL("../../examples/quickstart.yaml", import.meta.url));

/** The gateway's arguments from a /proc cmdline: what follows the entry script. */
export function gatewayArgs(cmdline: string): string[] {
  const words = cmdline.split("\0").filter(Boolean);
  const entry = words.findIndex((w) => /src\/runtime\/(bun|node|deno)\.ts$/.test(w));
  return entry === -1 ? [] : words.slice(entry + 1);
}

/** The URL of the gateway's /healthz, as start-up would resolve its host and port. */
export function healthUrl(
  args: readonly string[],
  env: Record<string, string | undefined>,
  readText: (file: string) => string = (f) => readFileSync(f, "utf8"),
): string {
  let port = 8080;
  let host = "127.0.0.1";
  try {
    const cli = parseCli(args, env);
    if (cli.port !== undefined) port = cli.port;
    else {
      const file = cli.config ?? DEFAULT_CONFIG;
      port = parseConfig(readText(file), file).settings.port;
    }
    if (cli.host && cli.host !== "0.0.0.0" && cli.host !== "::") host = cli.host;
  } catch {
    // Unreadable flags or config: the default port is the best guess left.
  }
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}/healthz`;
}

if (import.meta.main) {
  let args: string[] = [];
  try {
    args = gatewayArgs(readFileSync("/proc/1/cmdline", "utf8"));
  } catch {
    // not Linux, or no access: env and the default config decide
  }
  const url = healthUrl(args, process.env);
  fetch(url, { signal: AbortSignal.timeout(2500) }).then(
    (res) => process.exit(res.ok ? 0 : 1),
    () => process.exit(1),
  );
}
