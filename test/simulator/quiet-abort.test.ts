import { afterAll, describe, expect, test } from "bun:test";
import {
  type Child,
  freePort,
  MODEL,
  npmScript,
  printedPort,
  startChild,
  tempDir,
  waitFor,
  waitReady,
} from "../runtime/harness.ts";

// A client that leaves a stream is routine (a closed tab, a stop button). The gateway aborts
// the pod's request; the embedded simulated pod must end that stream quietly, not error it,
// or Node's and Deno's servers print a stack trace for every abandoned stream.

const STACK_LINE = /^\s+at .+[(:]/m;

function yaml(podPort: number): string {
  return `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
logLevel: warn
simulator:
  pods:
    - { port: ${podPort}, model: ${MODEL} }
`;
}

/** The pod's count of aborted requests, from its own /metrics. */
async function podAborts(podPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${podPort}/metrics`)).text();
  const m = /^vllm:request_success_total\{[^}]*finished_reason="abort"[^}]*\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

async function chat(url: string, stream: boolean, signal: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: MODEL,
      stream,
      max_tokens: 2000,
      messages: [{ role: "user", content: "hi" }],
    }),
    signal,
  });
}

describe.each([
  { runtime: "Node", script: "start:node" },
  { runtime: "Deno", script: "start:deno" },
])("an embedded simulated pod under $runtime", ({ script }) => {
  const tmp = tempDir("quiet-abort-");
  let child: Child | undefined;
  afterAll(async () => {
    await child?.stop();
    tmp.remove();
  }, 20_000);

  test("a client that aborts a stream or a JSON request leaves no stack trace behind", async () => {
    const podPort = await freePort();
    const configFile = `${tmp.dir}/gateway.yaml`;
    await Bun.write(configFile, yaml(podPort));
    const { argv, env } = npmScript(script);
    child = startChild([...argv, "--config", configFile, "--port", "0", "--host", "127.0.0.1"], env);
    const port = await waitFor("the gateway's printed URL", () => printedPort(child!.output()), {
      timeoutMs: 30_000,
      child,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, child, 30_000);

    // A stream: read the first chunk (the pod is generating), then leave.
    const streamCtl = new AbortController();
    const res = await chat(url, true, streamCtl.signal);
    expect(res.status).toBe(200);
    await res.body!.getReader().read();
    streamCtl.abort();
    await waitFor(
      "the pod to count the stream aborted",
      async () => ((await podAborts(podPort)) >= 1 ? true : undefined),
      {
        timeoutMs: 10_000,
        child,
      },
    );

    // A non-streamed request: leave while the pod generates (2000 tokens take far longer).
    const jsonCtl = new AbortController();
    const pending = chat(url, false, jsonCtl.signal).catch(() => undefined);
    await waitFor(
      "the pod to run the JSON request",
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${podPort}/metrics`)).text();
        return /^vllm:num_requests_running\{[^}]*\} 1$/m.test(text) ? true : undefined;
      },
      { timeoutMs: 10_000, child },
    );
    jsonCtl.abort();
    await pending;
    await waitFor(
      "the pod to count the JSON request aborted",
      async () => ((await podAborts(podPort)) >= 2 ? true : undefined),
      {
        timeoutMs: 10_000,
        child,
      },
    );
    // One more round trip through the gateway: whatever the aborts printed is in the output by now.
    expect((await fetch(`${url}/healthz`)).status).toBeLessThan(500);

    const output = child.output();
    expect(output).not.toMatch(STACK_LINE);
    expect(output).not.toContain("Client closed the request");
  }, 60_000);
});
