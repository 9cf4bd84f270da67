/**
 * Start-up problems a person sees in the terminal: a port already taken (by the gateway or
 * a simulated pod, on Bun, Node and Deno), and the banner's list of what each endpoint serves.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import type { RunningServer } from "../../src/runtime/server.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";

const ROOT = resolve(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "gw-listen-"));
let taken: RunningServer;
let pod: RunningSimulator;
beforeAll(async () => {
  taken = await serveBun({ fetch: () => new Response("busy"), port: 0, hostname: "127.0.0.1" });
  [pod] = (await startSimulators(serveBun, [
    { model: "learned-model", loras: ["a-lora"], port: 0, hostname: "127.0.0.1", timeScale: 0.01 },
  ])) as [RunningSimulator];
});
afterAll(async () => {
  await taken.close();
  await pod.close();
  rmSync(dir, { recursive: true, force: true });
});

const RUNTIMES: Record<string, string[]> = {
  bun: [process.execPath, "src/runtime/bun.ts"],
  node: ["node", "--import", "tsx", "src/runtime/node.ts"],
  deno: [
    join(ROOT, "node_modules/.bin/deno"),
    "run",
    "--unstable-no-legacy-abort",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "src/runtime/deno.ts",
  ],
};

async function run(argv: string[], args: string[]) {
  const proc = Bun.spawn([...argv, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: process.env });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("a port already in use says which listener could not bind", () => {
  const config = join(dir, "gw.yaml");
  writeFileSync(
    config,
    'apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nendpoints: [{ name: a, address: "127.0.0.1:9", models: [m] }]\n',
  );
  for (const [name, argv] of Object.entries(RUNTIMES)) {
    test(`the gateway's port, on ${name}`, async () => {
      const { code, stderr } = await run(argv, [
        "--config",
        config,
        "--host",
        "127.0.0.1",
        "--port",
        String(taken.port),
      ]);
      expect(code).toBe(1);
      expect(stderr).toContain(
        `start-up error: the gateway cannot listen on 127.0.0.1:${taken.port}: the port is already in use by another process`,
      );
      expect(stderr).not.toContain("    at ");
    }, 40_000);
  }

  test("a simulated pod's port", async () => {
    const sim = join(dir, "sim.yaml");
    writeFileSync(
      sim,
      `apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nsimulator:\n  pods: [{ port: ${taken.port}, model: m }]\n`,
    );
    const { code, stderr } = await run(RUNTIMES["bun"]!, [
      "--config",
      sim,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `simulated pod (simulator.pods port ${taken.port}) cannot listen on 127.0.0.1:${taken.port}`,
    );
  }, 40_000);
});

test("the banner shows the models an endpoint serves, learned from its /v1/models, and the aliases", async () => {
  const config = join(dir, "learned.yaml");
  writeFileSync(
    config,
    `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
endpoints: [{ name: pod-0, address: "127.0.0.1:${pod.port}" }]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: { name: friendly }
spec:
  poolRef: { name: pool }
  rules: [{ matches: [{ model: { value: nice } }], targets: [{ modelRewrite: learned-model }] }]
`,
  );
  const proc = Bun.spawn(
    [process.execPath, "src/runtime/bun.ts", "--config", config, "--port", "0", "--host", "127.0.0.1"],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  try {
    let out = "";
    const reader = proc.stdout.getReader();
    const deadline = Date.now() + 20_000;
    while (!out.includes("metrics   http") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    expect(out).toContain(`endpoint  pod-0    http://127.0.0.1:${pod.port}  learned-model, a-lora`);
    expect(out).toContain("alias     nice     → learned-model 100%  (InferenceModelRewrite/friendly)");
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 40_000);
