/**
 * Runtime smoke tests: the gateway as a child process of a real runtime binary (Bun, Node,
 * Deno, workerd via wrangler dev) in front of simulated pods that this test process serves
 * on loopback ports. Everything binds 127.0.0.1; every wait polls against a deadline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { ServeFn } from "../../src/runtime/server.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const MODEL = "facebook/opt-125m";
export const LORA = "sql-lora";
export const ALIAS = "opt-alias";
export const POOL = "runtime-pool";
/** A second pool: an embedding model (vLLM's pooling runner), the third pod. */
export const EMBED_POOL = "embed-pool";
export const EMBED_MODEL = "BAAI/bge-small-en-v1.5";

/** Simulated pods, with a count of the /metrics scrapes they answered. */
export interface Pods {
  pods: RunningSimulator[];
  addresses: string[];
  scrapes(): number;
  close(): Promise<void>;
}

/** Two fast simulated vLLM pods on free loopback ports; pod-1 also serves a LoRA adapter. */
export async function startPods(): Promise<Pods> {
  let scrapes = 0;
  const counting: ServeFn = (opts) =>
    serveBun({
      ...opts,
      fetch: (request) => {
        if (new URL(request.url).pathname === "/metrics") scrapes++;
        return opts.fetch(request);
      },
    });
  const common = { model: MODEL, jitter: 0, timeScale: 0.05, hostname: "127.0.0.1", port: 0 };
  const pods = await startSimulators(counting, [
    common,
    { ...common, loras: [LORA] },
    { ...common, model: EMBED_MODEL, runner: "pooling" },
  ]);
  return {
    pods,
    addresses: pods.map((p) => `127.0.0.1:${p.port}`),
    scrapes: () => scrapes,
    close: async () => {
      await Promise.all(pods.map((p) => p.close()));
    },
  };
}

/**
 * The gateway config for the pods: static endpoints whose models the gateway learns from
 * each pod's /v1/models, two pools (the chat pods, and the third pod's embedding model),
 * and an alias rewritten to the base model.
 */
export function gatewayYaml(addresses: readonly string[]): string {
  const endpoints = addresses
    .map((a, i) => `  - { name: pod-${i}, address: "${a}", pool: ${i === 2 ? EMBED_POOL : POOL} }`)
    .join("\n");
  // endpointServedHeader: the suite reads which pod served from each answer (off by default).
  return `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
logLevel: warn
endpointServedHeader: true
shutdownGraceMs: 2000
dataLayer:
  scrapeIntervalMs: 50
  modelsRefreshMs: 1000
endpoints:
${endpoints}
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata:
  name: ${POOL}
spec:
  selector:
    matchLabels:
      app: sim
  targetPorts:
    - number: 8000
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata:
  name: ${EMBED_POOL}
spec:
  selector:
    matchLabels:
      app: embed
  targetPorts:
    - number: 8000
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata:
  name: alias
spec:
  poolRef:
    name: ${POOL}
  rules:
    - matches:
        - model: { type: Exact, value: ${ALIAS} }
      targets:
        - { modelRewrite: ${MODEL}, weight: 100 }
`;
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port free right now on 127.0.0.1 (for runtimes that cannot report the port they bound). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * A package.json script as argv + env, the way `npm run` would run it: leading `NAME=value`
 * words become environment, `exec` is dropped, and the command comes from node_modules/.bin when it is there.
 */
export function npmScript(name: string): { argv: string[]; env: Record<string, string> } {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const script = pkg.scripts[name];
  if (!script) throw new Error(`package.json has no script ${name}`);
  const words = script.split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [key, ...value] = words.shift()!.split("=");
    env[key!] = value.join("=");
  }
  if (words[0] === "exec") words.shift(); // the script hands its shell over to the runtime
  const bin = join(ROOT, "node_modules", ".bin", words[0]!);
  if (existsSync(bin)) words[0] = bin;
  return { argv: words, env };
}

export interface Child {
  proc: ChildProcess;
  /** Everything the child printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  exited: Promise<number | string>;
  /** SIGTERM to the child's whole process group; SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

/** Process groups started here, killed if this test process exits without stopping them. */
const groups = new Set<number>();
process.once("exit", () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Starts a command in its own process group, so stopping it also stops what it spawned. */
export function startChild(argv: string[], env: Record<string, string> = {}): Child {
  const [cmd, ...args] = argv;
  const proc = spawn(cmd!, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (proc.pid) groups.add(proc.pid);
  let output = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  proc.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | string>((done) => {
    proc.once("exit", (code, signal) => done(code ?? signal ?? "unknown"));
    proc.once("error", (err) => {
      output += `\nspawn error: ${err.message}`;
      done("spawn-error");
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (proc.pid) process.kill(-proc.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    proc,
    output: () => output,
    exited,
    async stop(graceMs = 10_000) {
      signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      signalGroup("SIGKILL"); // anything the child left behind in its group
      if (proc.pid) groups.delete(proc.pid);
      return code;
    },
  };
}

/** Polls `check` until it returns a value; fails with the child's output after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs: number; child?: Child; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (opts.child && opts.child.proc.exitCode !== null)
      throw new Error(`${what}: the process exited (${opts.child.proc.exitCode})\n${opts.child.output()}`);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`${what}: not within ${opts.timeoutMs} ms${why}\n${opts.child?.output() ?? ""}`);
}

/** The gateway's port from what the shared entry prints when it listens. */
export function printedPort(output: string): number | undefined {
  const m =
    /gateway\s+http:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(output) ??
    /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(output);
  return m ? Number(m[1]) : undefined;
}

/** Resolves once /readyz says ready: the gateway answers and has scraped a pod. */
export function waitReady(url: string, child: Child, timeoutMs: number): Promise<true> {
  return waitFor(
    `${url}/readyz`,
    async () => {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.status === 200 ? true : undefined;
    },
    { timeoutMs, child },
  );
}

export function chat(url: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Hello from a runtime test" }], ...body }),
    signal: AbortSignal.timeout(15_000),
  });
}

/** The `data:` payloads of an SSE body. */
export function sseData(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice("data: ".length));
}

/** Each runtime entry as its npm script runs it (Bun; Node through tsx), and how long it may take to listen. */
export const ENTRIES = [
  { name: "bun", command: [process.execPath, "src/runtime/bun.ts"], startMs: 15_000 },
  { name: "node", command: ["node", "--import", "tsx", "src/runtime/node.ts"], startMs: 30_000 },
];

/** A gateway config file in `dir`: one static endpoint `pod` at `address` serving model `m`, the log at info. */
export function onePodConfig(dir: string, name: string, address: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
logLevel: info
endpoints:
  - { name: pod, address: "${address}", models: [m] }
`,
  );
  return file;
}
