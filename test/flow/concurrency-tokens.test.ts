/**
 * concurrency-detector `tokens` and `hybrid` modes (llm-d-router v0.10): saturation from
 * the prompt tokens in flight per endpoint (maxTokenConcurrency, default 1,000,000), or
 * the larger of the request and token ratios. The tokens come from the gateway's shared
 * counter, fed by inflight-load-producer.
 */
import { afterAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import { flowPlugins } from "../../plugins/index.ts";
import { inflightTokenCounter } from "../../plugins/inflight-token-counter.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { EndpointStore } from "../../src/endpoints/store.ts";
import { createFlowController } from "../../src/flow/control/index.ts";
import type { EndpointLoad, PluginSpec } from "../../src/flow/control/types.ts";
import { type Stack, startStack } from "../helpers/stack.ts";
import { endpoint, FakeTime } from "./helpers.ts";

const PRODUCER: PluginSpec = { type: "inflight-load-producer" };
const spec = (parameters: Record<string, unknown>): PluginSpec => ({
  type: "concurrency-detector",
  parameters,
});
const load = (inflight: number): EndpointLoad => ({ waiting: 0, running: 0, kvUsage: 0, inflight });

describe("concurrency-detector tokens and hybrid scores", () => {
  const tokens = inflightTokenCounter();
  const plugins = flowPlugins(tokens);
  const e = endpoint("e");

  test("tokens: prompt tokens in flight over maxTokenConcurrency × (1 + headroom)", () => {
    const d = plugins.detector(
      spec({ concurrencyMode: "tokens", maxTokenConcurrency: 1000, headroom: 0.25 }),
      [PRODUCER],
    );
    expect(d.score(e, load(50), 0)).toBe(0);
    tokens.add("e", 625);
    expect(d.score(e, load(50), 0)).toBeCloseTo(0.5, 10);
    tokens.add("e", -625);
    expect(d.score(e, load(50), 0)).toBe(0);
  });

  test("hybrid: the larger of the request and token ratios", () => {
    const d = plugins.detector(
      spec({ concurrencyMode: "hybrid", maxConcurrency: 10, maxTokenConcurrency: 100 }),
      [PRODUCER],
    );
    tokens.add("e", 30);
    expect(d.score(e, load(8), 0)).toBeCloseTo(0.8, 10);
    expect(d.score(e, load(1), 0)).toBeCloseTo(0.3, 10);
    tokens.add("e", -30);
  });

  test("maxTokenConcurrency defaults to 1,000,000", () => {
    const d = plugins.detector(spec({ concurrencyMode: "tokens" }), [PRODUCER]);
    tokens.add("e", 500_000);
    expect(d.score(e, load(0), 0)).toBeCloseTo(0.5, 10);
    tokens.add("e", -500_000);
  });

  test("without an inflight-load-producer declared the modes are refused, naming the fix", () => {
    for (const mode of ["tokens", "hybrid"]) {
      const s = { ...spec({ concurrencyMode: mode }), name: "cd" };
      expect(() => plugins.detector(s, [s])).toThrow(ConfigError);
      expect(() => plugins.detector(s, [s])).toThrow("plugins[cd].parameters.concurrencyMode");
    }
    expect(() => plugins.detector(spec({ concurrencyMode: "bytes" }), [PRODUCER])).toThrow(ConfigError);
  });
});

describe("flow control gated by tokens in flight (fake time)", () => {
  const setup = (parameters: Record<string, unknown>) => {
    const time = new FakeTime();
    const tokens = inflightTokenCounter();
    const store = new EndpointStore();
    store.upsert([endpoint("a")]);
    const ctl = createFlowController({
      clock: time.clock,
      setTimer: time.setTimer,
      policies: builtinFlowPolicies(),
      priorityOf: () => 0,
      saturation: flowPlugins(tokens).detector(spec(parameters), [PRODUCER]),
      endpoints: store,
    });
    const req = {
      objective: undefined,
      fairnessId: "f",
      targetModel: "m",
      bytes: 1,
      signal: new AbortController().signal,
    };
    return { ctl, tokens, req };
  };
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  for (const mode of ["tokens", "hybrid"])
    test(`${mode}: a request waits while the endpoint's tokens are at the limit, and goes when they end`, async () => {
      const { ctl, tokens, req } = setup({
        concurrencyMode: mode,
        maxConcurrency: 10,
        maxTokenConcurrency: 100,
      });
      const first = await ctl.admit(req);
      tokens.add("a", 100); // the first request's prompt, counted once scheduled
      let second: Awaited<ReturnType<typeof ctl.admit>> | undefined;
      void ctl.admit(req).then((r) => {
        second = r;
      });
      await settle();
      expect(second).toBeUndefined(); // 1 request of 10, but 100 tokens of 100
      tokens.add("a", -100); // ResponseComplete runs before the admission slot is released
      first.slot.release("success");
      await settle();
      expect(second).toBeDefined();
      second!.slot.release("success");
      ctl.shutdown();
    });

  test("requests mode ignores tokens in flight", async () => {
    const { ctl, tokens, req } = setup({ concurrencyMode: "requests", maxConcurrency: 10 });
    tokens.add("a", 10_000_000);
    const first = await ctl.admit(req);
    const second = await ctl.admit(req);
    first.slot.release("success");
    second.slot.release("success");
    ctl.shutdown();
  });

  test("hybrid: the request ratio still gates when tokens are low", async () => {
    const { ctl, req } = setup({ concurrencyMode: "hybrid", maxConcurrency: 1, maxTokenConcurrency: 100 });
    const first = await ctl.admit(req);
    let second: unknown;
    void ctl.admit(req).then((r) => {
      second = r;
    });
    await settle();
    expect(second).toBeUndefined();
    first.slot.release("success");
    await settle();
    expect(second).toBeDefined();
    (second as typeof first).slot.release("success");
    ctl.shutdown();
  });
});

describe("tokens mode through the gateway", () => {
  const stacks: Stack[] = [];
  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.close()));
  });

  test("each finished request gives its tokens back, so the next one is admitted", async () => {
    const picker = {
      apiVersion: "llm-d.ai/v1alpha1",
      kind: "EndpointPickerConfig",
      featureGates: ["flowControl"],
      plugins: [
        { type: "inflight-load-producer" },
        { type: "queue-scorer" },
        { type: "concurrency-detector", parameters: { concurrencyMode: "tokens", maxTokenConcurrency: 10 } },
      ],
      schedulingProfiles: [{ name: "default", plugins: [{ pluginRef: "queue-scorer" }] }],
      // Without the tokens given back, the second request would wait this long, then get a 429.
      flowControl: { defaultRequestTTL: "2s", saturationDetector: { pluginRef: "concurrency-detector" } },
    };
    const stack = await startStack({
      pods: [{ model: "m", timeScale: 0 }],
      yaml: [JSON.stringify(picker)],
    });
    stacks.push(stack);
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const prompt = "a prompt of well over forty characters, so more than ten tokens";
    for (let i = 0; i < 3; i++) {
      const res = await client.chat.completions.create({
        model: "m",
        messages: [{ role: "user", content: `${prompt} (${i})` }],
        max_tokens: 2,
      });
      expect(res.choices.length).toBe(1);
    }
  });
});
