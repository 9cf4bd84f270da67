/**
 * llm-d's "sticky until saturated" plugins as upstream defines them (llm-d-router v0.10):
 * inflight-load-producer counts uncached prompt tokens and gives a stream's back at its
 * first byte; token-load-scorer adds the request's own uncached tokens; the affinity
 * filter's load gate spills a hot prefix to a second pod, which then holds it too.
 */
import { describe, expect, test } from "bun:test";
import { builtinRegistry } from "../../plugins/index.ts";
import { seededRandom } from "../../src/clock.ts";
import { InFlight } from "../../src/endpoints/inflight.ts";
import type { Endpoint } from "../../src/endpoints/types.ts";
import { createScheduler } from "../../src/scheduling/framework/index.ts";
import { loadConfig } from "../../src/scheduling/framework/load-config.ts";
import { asArray, context, deps, fixedClock, pods, prompt, request } from "./helpers.ts";

const V = "llm-d.ai/v1alpha1";
const doc = (body: Record<string, unknown>) => ({ apiVersion: V, kind: "EndpointPickerConfig", ...body });

/** The optimized-baseline guide's config, with a throughput and penalty for a small test pool. */
const baseline = (filter: Record<string, unknown>) =>
  doc({
    plugins: [
      { type: "token-load-scorer" },
      { type: "inflight-load-producer" },
      { type: "approx-prefix-cache-producer", parameters: { autoTune: false } },
      { type: "prefix-cache-affinity-filter", parameters: filter },
    ],
    schedulingProfiles: [
      {
        name: "default",
        plugins: [{ pluginRef: "prefix-cache-affinity-filter" }, { pluginRef: "token-load-scorer" }],
      },
    ],
  });

const streamed = (text: string) => request({ body: { model: "m", prompt: text, stream: true } });

describe("inflight-load-producer: uncached tokens, as upstream", () => {
  const cfg = baseline({ maxTTFTPenaltyMs: 0 });
  test("a request whose prefix the pod holds counts only its uncached tokens; a stream gives them back at its first byte", () => {
    const loaded = loadConfig(cfg, builtinRegistry(), deps());
    const filter = loaded.plugins.get("prefix-cache-affinity-filter")!;
    const producer = loaded.plugins.get("inflight-load-producer")!;
    const scorer = loaded.plugins.get("token-load-scorer")!;
    const eps = pods(2);
    const system = prompt(1, 64 * 10); // 160 tokens
    const first = context({ request: streamed(system) });
    filter.filter!(first, eps);
    filter.preRequest!(first, [eps[0]!]);
    producer.preRequest!(first, [eps[0]!]);
    const inflight = (e: Endpoint) =>
      (producer as unknown as { tokensInFlight(e: Endpoint): number }).tokensInFlight(e);
    expect(inflight(eps[0]!)).toBe(160); // nothing cached yet
    producer.responseReceived!(first, { endpoint: eps[0]!, status: 200, headers: new Headers() });
    expect(inflight(eps[0]!)).toBe(0); // prefill done at the first byte
    const again = context({ request: streamed(`${system}${prompt(2, 64 * 2)}`) }); // 32 more tokens
    filter.filter!(again, eps);
    producer.preRequest!(again, [eps[0]!]);
    expect(inflight(eps[0]!)).toBe(32);
    // token-load-scorer: the pod's tokens plus this request's own uncached ones: 32 + 32 on
    // the warm pod, 192 on the cold one; normalized over the candidates, the warm one wins.
    const next = context({ request: streamed(`${system}${prompt(3, 64 * 2)}`) });
    filter.filter!(next, eps);
    expect(asArray(scorer.score!(next, eps), eps)).toEqual([1, 0]);
    const third = pods(3);
    const three = context({ request: streamed(`${system}${prompt(3, 64 * 2)}`) });
    filter.filter!(three, third);
    // pod-0: 64, pod-1 and pod-2: 192 each (nothing cached, nothing in flight for this context's pods list)
    expect(asArray(scorer.score!(three, third), third)).toEqual([1, 0, 0]);
    producer.responseComplete!(again, eps[0]!, "success");
    expect(inflight(eps[0]!)).toBe(0);
  });

  test("the load gate needs an inflight-load-producer, as upstream's EPP refuses to start without it", () => {
    const without = doc({ plugins: [{ type: "prefix-cache-affinity-filter" }] });
    expect(() => loadConfig(without, builtinRegistry(), deps())).toThrow(
      'add "- type: inflight-load-producer"',
    );
    const ungated = doc({
      plugins: [{ type: "prefix-cache-affinity-filter", parameters: { maxTTFTPenaltyMs: 0 } }],
    });
    expect(() => loadConfig(ungated, builtinRegistry(), deps())).not.toThrow();
  });

  test("upstream's producer-name and calibration parameters are accepted; a required calibration is refused", () => {
    const ok = baseline({
      inFlightLoadProducerName: "inflight-load-producer",
      prefixMatchInfoProducerName: "approx-prefix-cache-producer",
      prefillCalibrationFile: "/etc/llm-d/prefix-calibration.json",
    });
    expect(() => loadConfig(ok, builtinRegistry(), deps())).not.toThrow();
    expect(() =>
      loadConfig(baseline({ prefillCalibrationRequired: true }), builtinRegistry(), deps()),
    ).toThrow("set peakPrefillThroughput");
  });
});

describe("the optimized baseline spills a hot prefix and keeps it on both pods", () => {
  test("sticky while the holder's queued prefill is within the penalty; past it a second pod takes it and holds it too", () => {
    // 1,000 tokens/s: 200 ms of penalty = 200 uncached tokens queued more than another pod.
    const inflight = new InFlight();
    const s = createScheduler({
      config: baseline({ peakPrefillThroughput: 1000, maxTTFTPenaltyMs: 200 }),
      registry: builtinRegistry(),
      inflight,
      clock: fixedClock(),
      random: seededRandom(4),
    });
    const eps = pods(3);
    const hot = prompt(5, 64 * 40); // 640 tokens
    const send = (q: number) => {
      const d = s.schedule(streamed(`${hot}${prompt(100 + q, 64)}`), eps);
      return { pod: d.endpoints[0]!, life: d.lifecycle! };
    };
    const first = send(0);
    first.life.responseReceived(first.pod, { status: 200, headers: new Headers() });
    first.life.responseComplete("success");
    // Three hot requests waiting for their first byte on the holder: 3 x 16 uncached tokens, within the penalty.
    const waiting = [send(1), send(2), send(3)];
    expect(waiting.map((r) => r.pod.name)).toEqual([first.pod.name, first.pod.name, first.pod.name]);
    // A long cold prompt lands on the holder's queue too (placed there by hand): now far past the penalty.
    const big = s.schedule(streamed(prompt(9, 64 * 100)), [first.pod]);
    const spilled = send(4);
    expect(spilled.pod.name).not.toBe(first.pod.name);
    spilled.life.responseReceived(spilled.pod, { status: 200, headers: new Headers() });
    spilled.life.responseComplete("success");
    // The holder drains; both now hold the prefix, so both are sticky and the lighter one serves.
    big.lifecycle!.responseComplete("success");
    for (const r of waiting) r.life.responseComplete("success");
    const back = send(5);
    expect([first.pod.name, spilled.pod.name]).toContain(back.pod.name);
  });
});

describe("token-load-scorer decides under max-score-picker's tie band", () => {
  test("a new prompt goes to a pod with less prefill in flight, not by hash among all", () => {
    // Absolute scores (1 - tokens / 4M) put every pod within the picker's 0.05 band, so
    // the hash chose: about 1 in 3 of these landed on the loaded pod.
    let onLoaded = 0;
    for (let i = 0; i < 30; i++) {
      const s = createScheduler({
        config: baseline({}),
        registry: builtinRegistry(),
        inflight: new InFlight(),
        clock: fixedClock(),
        random: seededRandom(i),
      });
      const eps = pods(3);
      const busy = s.schedule(streamed(prompt(500 + i, 64 * 125)), [eps[0]!]); // 2,000 tokens in flight
      expect(busy.endpoints[0]!.name).toBe("pod-0");
      if (s.schedule(streamed(prompt(i, 64 * 20)), eps).endpoints[0]!.name === "pod-0") onLoaded++;
    }
    expect(onLoaded).toBe(0);
  });
});
