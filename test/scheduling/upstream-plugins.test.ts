import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import { NEW_PREFIX } from "../../src/scheduling/framework/interfaces.ts";
import { loadConfig } from "../../src/scheduling/framework/load-config.ts";
import { asArray, context, deps, endpoint, pods, prompt, request } from "./helpers.ts";

const V = "llm-d.ai/v1alpha1";
const doc = (body: Record<string, unknown>) => ({ apiVersion: V, kind: "EndpointPickerConfig", ...body });
const load = (body: Record<string, unknown>) => loadConfig(doc(body), builtinRegistry(), deps());
const plugin = (body: Record<string, unknown>, name: string) => load(body).plugins.get(name)!;

describe("decode-filter", () => {
  test("keeps decode, both and unlabelled endpoints; drops prefill", () => {
    const f = plugin({ plugins: [{ type: "decode-filter" }] }, "decode-filter");
    const role = (r?: string) => (r ? { labels: { "llm-d.ai/role": r } } : {});
    const eps = [
      endpoint("d", {}, role("decode")),
      endpoint("p", {}, role("prefill")),
      endpoint("b", {}, role("both")),
      endpoint("n", {}, role()),
    ];
    expect(f.filter!(context(), eps).map((e) => e.name)).toEqual(["d", "b", "n"]);
  });
});

describe("active-request-scorer", () => {
  test("fewer requests in flight from this gateway score higher", () => {
    const s = plugin(
      { plugins: [{ type: "active-request-scorer", parameters: { requestTimeout: "2m" } }] },
      "active-request-scorer",
    );
    const inflight = new InFlight();
    const eps = pods(3);
    inflight.acquire("pod-0");
    inflight.acquire("pod-0");
    inflight.acquire("pod-1");
    expect(asArray(s.score!(context({ inflight }), eps), eps)).toEqual([0, 0.5, 1]);
    expect(asArray(s.score!(context(), eps), eps)).toEqual([1, 1, 1]);
  });
});

describe("no-hit-lru-scorer", () => {
  test("cold requests go to the endpoint that took a cold request least recently; warm ones are neutral", () => {
    const s = plugin(
      { plugins: [{ type: "no-hit-lru-scorer", parameters: { lruSize: 8 } }] },
      "no-hit-lru-scorer",
    );
    const eps = pods(3);
    const cold = () => {
      const ctx = context();
      ctx.set(NEW_PREFIX, true);
      return ctx;
    };
    const served = (e: (typeof eps)[number]) => {
      const ctx = cold();
      s.score!(ctx, eps);
      s.preRequest!(ctx, [e]);
    };
    expect(asArray(s.score!(cold(), eps), eps)).toEqual([1, 1, 1]);
    served(eps[0]!);
    served(eps[1]!);
    expect(asArray(s.score!(cold(), eps), eps)).toEqual([0.5, 0, 1]);
    served(eps[2]!);
    expect(asArray(s.score!(cold(), eps), eps)).toEqual([2 / 3, 1 / 3, 0]);
    expect(asArray(s.score!(context(), eps), eps)).toEqual([0.5, 0.5, 0.5]);
  });

  test("spreads a run of new prompts over every pod", () => {
    const loaded = load({
      plugins: [{ type: "prefix-cache-scorer" }, { type: "no-hit-lru-scorer" }, { type: "max-score-picker" }],
      schedulingProfiles: [
        {
          name: "default",
          plugins: [
            { pluginRef: "prefix-cache-scorer", weight: 3 },
            { pluginRef: "no-hit-lru-scorer", weight: 2 },
          ],
        },
      ],
    });
    const eps = pods(4);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const ctx = context({ request: request({ prompt: prompt(100 + i, 400) }) });
      const r = loaded.handler.handle(ctx, loaded.profiles, (p) => {
        let scored = eps.map((endpoint) => ({ endpoint, score: 0 }));
        for (const { scorer, weight } of p.scorers) {
          const s = asArray(scorer.score(ctx, eps), eps);
          scored = scored.map((x, j) => ({ endpoint: x.endpoint, score: x.score + (s[j] ?? 0) * weight }));
        }
        const picked = p.picker.pick(ctx, scored);
        return { kind: "picked", profile: p.name, endpoints: picked, scored };
      });
      if (r.kind !== "picked") throw new Error("not picked");
      for (const h of loaded.hooks) h.preRequest?.(ctx, r.endpoints);
      seen.add(r.endpoints[0]!.name);
    }
    expect(seen.size).toBe(4);
  });
});

describe("approx-prefix-cache-producer feeds the prefix-cache scorers", () => {
  test("blockSizeTokens and maxPrefixTokensToMatch set the scorer's block size and window", () => {
    const d = deps();
    const loaded = loadConfig(
      doc({
        plugins: [
          { type: "prefix-cache-scorer" },
          {
            type: "approx-prefix-cache-producer",
            parameters: { blockSizeTokens: 5, maxPrefixTokensToMatch: 50, autoTune: false },
          },
        ],
      }),
      builtinRegistry(),
      d,
    );
    const s = loaded.plugins.get("prefix-cache-scorer")!;
    const ctx = context({ request: request({ prompt: prompt(1, 2000) }) });
    s.score!(ctx, pods(1));
    s.preRequest!(ctx, pods(1));
    // 5 tokens = 20 characters a block, 50 / 5 = 10 blocks at most.
    expect(d.prefixIndex.stats()).toMatchObject({ entries: 10 });
  });

  test("prefixMatchInfoProducerName picks a named producer; a wrong name is refused", () => {
    const body = (ref: string) => ({
      plugins: [
        { type: "approx-prefix-cache-producer", name: "a", parameters: { blockSizeTokens: 8 } },
        { type: "approx-prefix-cache-producer", name: "b", parameters: { blockSizeTokens: 64 } },
        { type: "prefix-cache-scorer", parameters: { prefixMatchInfoProducerName: ref } },
      ],
    });
    expect(() => load(body("b"))).not.toThrow();
    expect(() => load(body("c"))).toThrow(
      "plugins[2] (prefix-cache-scorer).parameters.prefixMatchInfoProducerName: the name of an approx-prefix-cache-producer or precise-prefix-cache-producer in plugins (defined: a, b)",
    );
  });

  test("GIE v1.5's blockSizeTokens on the scorer itself", () => {
    const d = deps();
    const loaded = loadConfig(
      doc({
        plugins: [
          {
            type: "prefix-cache-scorer",
            parameters: { blockSizeTokens: 5, autoTune: false, maxPrefixBlocksToMatch: 7 },
          },
        ],
      }),
      builtinRegistry(),
      d,
    );
    const s = loaded.plugins.get("prefix-cache-scorer")!;
    const ctx = context({ request: request({ prompt: prompt(2, 1000) }) });
    s.score!(ctx, pods(1));
    s.preRequest!(ctx, pods(1));
    expect(d.prefixIndex.stats()).toMatchObject({ entries: 7 });
  });
});

describe("plugins whose job the gateway does itself", () => {
  test("load, take no part in scheduling, and each leave one start-up line", () => {
    const loaded = load({
      plugins: [
        { type: "queue-scorer" },
        {
          type: "metrics-data-source",
          parameters: { scheme: "http", path: "/metrics", insecureSkipVerify: true },
        },
        { type: "core-metrics-extractor" },
        { type: "openai-parser" },
      ],
    });
    expect(loaded.profiles[0]!.scorers.map((s) => s.scorer.name)).toEqual(["queue-scorer"]);
    expect(loaded.notes).toHaveLength(3);
    expect(loaded.notes[0]).toMatch(
      /^metrics-data-source \(metrics-data-source\): built in: the gateway scrapes/,
    );
  });

  test("their parameters must still be an object", () => {
    expect(() => load({ plugins: [{ type: "metrics-data-source", parameters: "http" }] })).toThrow(
      "plugins[0] (metrics-data-source).parameters",
    );
  });
});

describe("inflight-load-producer + token-load-scorer", () => {
  const config = {
    plugins: [
      { type: "inflight-load-producer" },
      { type: "token-load-scorer", parameters: { queueThresholdTokens: 100 } },
    ],
  };

  test("tokens count on the primary, move to a fallback that served, and leave when the request ends", () => {
    const loaded = load(config);
    const producer = loaded.plugins.get("inflight-load-producer")!;
    const scorer = loaded.plugins.get("token-load-scorer")!;
    const eps = pods(2);
    const ctx = context({ request: request({ prompt: "x".repeat(200) }) }); // 50 tokens
    producer.preRequest!(ctx, eps);
    // Normalized over the candidates: the loaded one 0, the idle one 1 (upstream: 0.5 and 1, same order).
    expect(asArray(scorer.score!(context(), eps), eps)).toEqual([0, 1]);
    producer.responseReceived!(ctx, { endpoint: eps[1]!, status: 200, headers: new Headers() });
    expect(asArray(scorer.score!(context(), eps), eps)).toEqual([1, 0]);
    producer.responseComplete!(ctx, eps[1]!, "success");
    expect(asArray(scorer.score!(context(), eps), eps)).toEqual([1, 1]);
  });

  test("a request no endpoint answered still gives its tokens back", () => {
    const loaded = load(config);
    const producer = loaded.plugins.get("inflight-load-producer")!;
    const ctx = context({ request: request({ prompt: "x".repeat(4000) }) });
    producer.preRequest!(ctx, pods(1));
    producer.responseComplete!(ctx, undefined, "error");
    expect(asArray(loaded.plugins.get("token-load-scorer")!.score!(context(), pods(1)), pods(1))).toEqual([
      1,
    ]);
  });

  test("without an inflight-load-producer the scorer is refused, saying what to add", () => {
    expect(() => load({ plugins: [{ type: "token-load-scorer" }] })).toThrow(
      'add "- type: inflight-load-producer"',
    );
  });
});

describe("prefix-cache-affinity-filter", () => {
  const config = (parameters: Record<string, unknown> = {}) => ({
    plugins: [
      { type: "inflight-load-producer" },
      { type: "approx-prefix-cache-producer", parameters: { autoTune: false } },
      { type: "prefix-cache-affinity-filter", parameters },
    ],
  });
  const text = prompt(9, 64 * 8);

  function warm(parameters?: Record<string, unknown>) {
    const loaded = load(config(parameters));
    const filter = loaded.plugins.get("prefix-cache-affinity-filter")!;
    const producer = loaded.plugins.get("inflight-load-producer")!;
    const eps = pods(3);
    const first = context({ request: request({ prompt: text }) });
    expect(filter.filter!(first, eps)).toEqual(eps); // nothing cached: keep all
    filter.preRequest!(first, [eps[1]!]);
    return { filter, producer, eps };
  }

  test("keeps only the endpoints holding the prompt once one does", () => {
    const { filter, eps } = warm();
    expect(filter.filter!(context({ request: request({ prompt: text }) }), eps)).toEqual([eps[1]!]);
  });

  test("a sticky endpoint loaded past maxTokensInFlightPenalty opens the gate", () => {
    const { filter, producer, eps } = warm({ maxTokensInFlightPenalty: 100, maxTTFTPenaltyMs: 0 });
    const busy = context({ request: request({ prompt: "y".repeat(800) }) }); // 200 tokens
    producer.preRequest!(busy, [eps[1]!]);
    expect(filter.filter!(context({ request: request({ prompt: text }) }), eps)).toEqual(eps);
    producer.responseComplete!(busy, eps[1]!, "success");
    expect(filter.filter!(context({ request: request({ prompt: text }) }), eps)).toEqual([eps[1]!]);
  });

  test("the latency-predictor TTFT source is refused with what it needs", () => {
    expect(() => load(config({ ttftSource: "latencyPredictor" }))).toThrow("latency-predictor sidecar");
  });
});
