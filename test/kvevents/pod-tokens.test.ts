import { describe, expect, test } from "bun:test";
import { PodTokens } from "../../src/kvevents/pod-tokens.ts";
import { endpoint, fixedClock } from "../scheduling/helpers.ts";

/** A fake pod's /tokenize: one token per character code, as a number list; records the calls. */
function fakePod(fail = false) {
  const calls: Record<string, unknown>[] = [];
  const fetch = async (_url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    calls.push(body);
    if (fail) return new Response("no", { status: 500 });
    const text =
      typeof body["prompt"] === "string"
        ? body["prompt"]
        : (body["messages"] as { role: string; content: string }[])
            .map((m) => `${m.role}:${m.content}|`)
            .join("");
    return Response.json({ count: text.length, tokens: [...text].map((c) => c.charCodeAt(0)) });
  };
  return { calls, fetch };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const eps = [endpoint("a"), endpoint("bb")];
const chat = (system: string, question: string) => ({
  messages: [
    { role: "system", content: system },
    { role: "user", content: question },
  ],
});

describe("tokens learned from the pods' /tokenize", () => {
  test("a chat's shared part (all but the last message) is learned once, then matched for any new question", async () => {
    const pod = fakePod();
    const t = new PodTokens({ clock: fixedClock(), fetch: pod.fetch });
    expect(t.lookup("m", chat("be brief", "q1"), eps)).toBeUndefined();
    await flush();
    expect(pod.calls).toEqual([
      {
        model: "m",
        messages: [{ role: "system", content: "be brief" }],
        add_generation_prompt: false,
        add_special_tokens: false,
      },
    ]);
    const got = t.lookup("m", chat("be brief", "a different question"), eps);
    expect(Array.from(got!)).toEqual([..."system:be brief|"].map((c) => c.charCodeAt(0)));
    await flush();
    expect(pod.calls).toHaveLength(1); // nothing more to learn
    expect(t.lookup("other-model", chat("be brief", "q"), eps)).toBeUndefined(); // keyed by model
  });

  test("a completion prompt is learned whole and matched when repeated", async () => {
    const pod = fakePod();
    const t = new PodTokens({ clock: fixedClock(), fetch: pod.fetch });
    expect(t.lookup("m", { prompt: "abc" }, eps)).toBeUndefined();
    await flush();
    expect(Array.from(t.lookup("m", { prompt: "abc" }, eps)!)).toEqual([97, 98, 99]);
  });

  test("a pod that fails is not asked again for retryMs, and the failure is logged once", async () => {
    const pod = fakePod(true);
    const clock = fixedClock();
    const logs: string[] = [];
    const t = new PodTokens({ clock, fetch: pod.fetch, retryMs: 1000, log: (m) => logs.push(m) });
    t.lookup("m", { prompt: "x" }, [eps[0]!]);
    await flush();
    await flush();
    t.lookup("m", { prompt: "y" }, [eps[0]!]);
    await flush();
    expect(pod.calls).toHaveLength(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/a did not tokenize \(HTTP 500\)/);
    clock.t += 1001;
    t.lookup("m", { prompt: "y" }, [eps[0]!]);
    expect(pod.calls).toHaveLength(2);
  });

  test("bounded: at most maxEntries prefixes and maxInFlight calls at once", async () => {
    const pod = fakePod();
    const t = new PodTokens({ clock: fixedClock(), fetch: pod.fetch, maxEntries: 2, maxInFlight: 2 });
    for (const p of ["p1", "p2", "p3"]) t.lookup("m", { prompt: p }, eps);
    expect(pod.calls).toHaveLength(2); // the third waits for a later request
    await flush();
    t.lookup("m", { prompt: "p3" }, eps);
    await flush();
    expect(t.lookup("m", { prompt: "p1" }, eps)).toBeUndefined(); // least recently used, out
    expect(t.lookup("m", { prompt: "p3" }, eps)).toBeDefined();
  });
});
