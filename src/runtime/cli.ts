import { parseArgs } from "node:util";

export const USAGE = `inference-gateway: an OpenAI-compatible inference gateway for self-hosted LLM pods

Usage: npm start -- [options]        (Bun)
       npm run start:node -- [options]  (Node)

Options:
  -c, --config <file>     YAML config (GatewayConfig + InferencePool, InferenceObjective,
                          InferenceModelRewrite, EndpointPickerConfig documents).
                          Default: examples/quickstart.yaml (three simulated vLLM pods).
  -p, --port <n>          Port to listen on (default 8080, or the config's).
      --host <addr>       Address to bind (default 0.0.0.0, or the config's).
      --log-level <lvl>   debug | info | warn | error | silent
  -h, --help              Show this help.

Environment (overridden by flags): GATEWAY_CONFIG, GATEWAY_PORT (or PORT), GATEWAY_HOST,
GATEWAY_LOG_LEVEL. GATEWAY_CONFIG_SETTLE_MS: how long the config file must read the same
before an edit is reloaded (default 500). GATEWAY_WARMUP_MS: how long the start-up warm-up
runs before the gateway listens (default 0: none, or the config's warmUpMs).`;

export interface CliOptions {
  help: boolean;
  config: string | undefined;
  port: number | undefined;
  host: string | undefined;
  logLevel: string | undefined;
  /** GATEWAY_CONFIG_SETTLE_MS: how long the config file must read the same before a reload takes it. */
  settleMs: number | undefined;
  /** GATEWAY_WARMUP_MS: the start-up warm-up's budget (settings.warmUpMs), 0 to skip it. */
  warmUpMs: number | undefined;
}

/** Flags first, then environment; throws an Error with a readable message on bad input. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined>): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string", short: "c" },
      port: { type: "string", short: "p" },
      host: { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  const portText = values.port ?? env["GATEWAY_PORT"] ?? env["PORT"];
  let port: number | undefined;
  if (portText !== undefined && portText !== "") {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port: expected 0-65535, got '${portText}'`);
  }
  return {
    help: values.help ?? false,
    settleMs: msFromEnv(env, "GATEWAY_CONFIG_SETTLE_MS"),
    warmUpMs: msFromEnv(env, "GATEWAY_WARMUP_MS"),
    config: values.config ?? (env["GATEWAY_CONFIG"] || undefined),
    port,
    host: values.host ?? (env["GATEWAY_HOST"] || undefined),
    logLevel: values["log-level"] ?? (env["GATEWAY_LOG_LEVEL"] || undefined),
  };
}

/** Milliseconds from 0 to 60000 in the environment variable `name`; undefined when unset or empty. */
function msFromEnv(env: Record<string, string | undefined>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000)
    throw new Error(`${name}: expected milliseconds from 0 to 60000, got '${text}'`);
  return ms;
}
