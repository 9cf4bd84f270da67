/**
 * SIGTERM past the grace period on the real entries (Bun, Node, Deno): the clients of
 * requests still running get an answer they can read (an SSE error event, a 503 body)
 * before the server closes, and the process exits 0.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { type RunningSimulator, startSimulators } from "../../src/simulator/index.ts";
import { chat, gatewayYaml, MODEL, tempDir, waitFor } from "./harness.ts";
import { scriptLauncher } from "./launch.ts";

let pods: RunningSimulator[];
let tmp: ReturnType<typeof tempDir>;
let configFile: string;

beforeAll(async () => {
  // Slow pods: 2,000 tokens at 20 ms, so nothing finishes before the 300 ms grace.
  const pod = { model: MODEL, jitter: 0, interTokenMs: 20, maxNumSeqs: 16, hostname: "127.0.0.1", port: 0 };
  pods = await startSimulators(serveBun, [pod, pod]);
  tmp = tempDir("gw-shutdown-");
  configFile = `${tmp.dir}/gateway.yaml`;
  const yaml = gatewayYaml(pods.map((p) => `127.0.0.1:${p.port}`));
  await Bun.write(configFile, yaml.replace("shutdownGraceMs: 2000", "shutdownGraceMs: 300"));
});

afterAll(async () => {
  await Promise.all(pods.map((p) => p.close()));
  tmp.remove();
});

const running = () => pods.reduce((n, p) => n + p.simulator.stats().running, 0);

for (const [name, script] of [
  ["Bun", "start"],
  ["Node", "start:node"],
  ["Deno", "start:deno"],
] as const)
  describe(`SIGTERM on ${name}`, () => {
    test("running streams end with an SSE error event, a running JSON request gets a 503 body, exit 0", async () => {
      const gw = await scriptLauncher(script, 30_000)({ yaml: "", configFile, dir: tmp.dir });
      // 12 streams: more than the 10 listeners after which Node warns about a shared AbortSignal.
      const readers = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const res = await chat(gw.url, { model: MODEL, stream: true, max_tokens: 2000 });
          const reader = res.body!.getReader();
          await reader.read();
          return reader;
        }),
      );
      const json = chat(gw.url, { model: MODEL, max_tokens: 2000 });
      await waitFor("every request on the pods", () => (running() === 13 ? true : undefined), {
        timeoutMs: 10_000,
      });
      const code = gw.child.stop();
      for (const reader of readers) {
        let rest = "";
        for (let r = await reader.read(); !r.done; r = await reader.read())
          rest += new TextDecoder().decode(r.value);
        expect(rest).toContain('"code":"shutting_down"');
      }
      const res = await json;
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe("shutting_down");
      expect(await code).toBe(0);
      expect(gw.child.output()).not.toContain("Warning");
      await waitFor("pods idle", () => (running() === 0 ? true : undefined), { timeoutMs: 10_000 });
    }, 60_000);
  });
