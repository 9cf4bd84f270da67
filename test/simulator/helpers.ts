import { expect } from "bun:test";
import { seededRandom } from "../../src/clock.ts";
import { createSimulator, type Simulator, type SimulatorOptions } from "../../src/simulator/index.ts";

/** A fast, deterministic simulator: no jitter, 100x faster time, seeded random. */
export function fastSim(opts: Partial<SimulatorOptions> = {}): Simulator {
  return createSimulator({ model: "m", jitter: 0, timeScale: 0.01, random: seededRandom(42), ...opts });
}

/** A simulator whose requests sit in prefill (~17 minutes) until aborted or closed. */
export function holdingSim(opts: Partial<SimulatorOptions> = {}): Simulator {
  return fastSim({ prefillOverheadMs: 1_000_000, timeScale: 1, ...opts });
}

export function post(
  sim: Simulator,
  path: string,
  body: unknown,
  init: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<Response> {
  return sim.fetch(
    new Request(`http://sim${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...init.headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
      ...(init.signal ? { signal: init.signal } : {}),
    }),
  );
}

/** POSTs `body` to `path`, expects 200 and gives back the parsed JSON body. */
export async function postOk(sim: Simulator, path: string, body: Record<string, unknown>) {
  const res = await post(sim, path, body);
  expect(res.status).toBe(200);
  return res.json();
}

export function chat(
  sim: Simulator,
  body: Record<string, unknown>,
  init: { signal?: AbortSignal } = {},
): Promise<Response> {
  return post(sim, "/v1/chat/completions", { model: "m", ...body }, init);
}

export function say(content: string) {
  return [{ role: "user", content }];
}

export async function get(sim: Simulator, path: string): Promise<Response> {
  return sim.fetch(new Request(`http://sim${path}`));
}

/** Reads a streamed body that must break before its end; gives back the text that came first. */
export async function readUntilBroken(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  await expect(
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value);
      }
    })(),
  ).rejects.toThrow();
  return text;
}

/** Splits an SSE body into its `data:` payloads, parsing JSON ones. */
export function parseSse(text: string): unknown[] {
  return text
    .split("\n\n")
    .filter((frame) => frame.length > 0)
    .map((frame) => {
      if (!frame.startsWith("data: ")) throw new Error(`not an SSE data frame: ${frame}`);
      const data = frame.slice("data: ".length);
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}

/** Splits a typed SSE body (`event:` + `data:` frames, Responses and Anthropic APIs) into events. */
export function parseEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split("\n\n")
    .filter((frame) => frame.length > 0)
    .map((frame) => {
      const m = /^event: (\S+)\ndata: (.*)$/s.exec(frame);
      if (!m) throw new Error(`not a typed SSE frame: ${frame}`);
      return { event: m[1]!, data: JSON.parse(m[2]!) };
    });
}

/** Polls `cond` every 2 ms; fails after `timeoutMs` (generous, for a busy machine). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error("waitFor: condition not met in time");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Prometheus samples by `name{labels}` (labels as written). */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

export async function metrics(sim: Simulator): Promise<Map<string, number>> {
  return samples(await (await get(sim, "/metrics")).text());
}
