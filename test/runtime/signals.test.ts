/**
 * `npm start` (and the other start scripts) under a process manager: SIGTERM goes to the
 * npm process only. Each script must hand the signal to the runtime (`exec`), so the
 * gateway drains and frees its port, and no process of the tree is left behind.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startChild, tempDir, waitFor } from "./harness.ts";
import { testWranglerToml } from "./launch.ts";

const tmp = tempDir("gw-signals-");
afterAll(() => tmp.remove());

const config = join(tmp.dir, "gw.yaml");
const yaml = `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
logLevel: warn
endpoints:
  - { name: nowhere, address: "127.0.0.1:9", models: [m] }
`;
writeFileSync(config, yaml);
const wranglerToml = join(tmp.dir, "wrangler.toml");
writeFileSync(wranglerToml, testWranglerToml(yaml));

/** Each script's own flags for the test's config on 127.0.0.1:port. */
const ARGS: Record<string, (port: number) => string[]> = {
  start: (port) => ["--config", config, "--port", String(port), "--host", "127.0.0.1"],
  "start:node": (port) => ["--config", config, "--port", String(port), "--host", "127.0.0.1"],
  "start:deno": (port) => ["--config", config, "--port", String(port), "--host", "127.0.0.1"],
  "dev:worker": (port) => [
    "--config",
    wranglerToml,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    join(tmp.dir, "state"),
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ],
};

/** The pids of `root` and all its descendants, from /proc (Linux). */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++)
    for (const [pid, ppid] of parent) if (ppid === out[i] && !out.includes(pid)) out.push(pid);
  return out.filter((pid) => parent.has(pid));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

describe("SIGTERM to the npm process reaches the runtime", () => {
  for (const [script, args] of Object.entries(ARGS)) {
    test(`npm run ${script}`, async () => {
      const port = await freePort();
      const npm = startChild(["npm", "run", "--silent", script, "--", ...args(port)], {
        CI: "true",
        WRANGLER_HIDE_BANNER: "true",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        WRANGLER_LOG_PATH: join(tmp.dir, "logs"),
        WRANGLER_REGISTRY_PATH: join(tmp.dir, "registry"),
      });
      try {
        const url = `http://127.0.0.1:${port}/healthz`;
        await waitFor("the gateway to answer", async () => ((await answers(url)) ? true : undefined), {
          timeoutMs: script === "dev:worker" ? 90_000 : 30_000, // wrangler dev starts slowly on a busy machine
          child: npm,
        });
        const pids = tree(npm.proc.pid!);
        expect(pids.length).toBeGreaterThan(1); // npm and the runtime
        process.kill(npm.proc.pid!, "SIGTERM"); // the npm process only, as a process manager does
        await waitFor("every process of the tree to exit", () => (pids.some(alive) ? undefined : true), {
          timeoutMs: 15_000,
        });
        expect(await answers(url)).toBe(false);
        if (script !== "dev:worker") expect(npm.output()).toContain("SIGTERM"); // the runtime itself saw it
      } finally {
        await npm.stop(2000);
      }
    }, 150_000);
  }
});
