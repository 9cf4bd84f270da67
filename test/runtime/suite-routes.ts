import { expect, test } from "bun:test";
import { EMBED_MODEL, MODEL, type Pods, sseData } from "./harness.ts";

/**
 * The routes beyond chat on every runtime, as their clients send them: a Responses API
 * conversation (plain and streamed) that stays on the pod holding it, a multipart
 * transcription upload, Anthropic's Messages API with its own error shape, and vLLM's
 * rerank on the embedding pool. Each runtime reads bodies its own way (Workers: no
 * Node streams; Deno: its own fetch), so each is checked there.
 */
export function describeRouteChecks(ctx: { url: () => string; pods: () => Pods }): void {
  const post = (path: string, body: unknown) =>
    fetch(`${ctx.url()}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  const servedBy = (res: Response) => res.headers.get("x-gateway-destination-endpoint-served");

  test("a Responses API conversation, streamed or not, stays on the pod that holds it", async () => {
    const first = await post("/v1/responses", { model: MODEL, input: "turn 0", max_output_tokens: 3 });
    expect(first.status).toBe(200);
    const home = servedBy(first);
    let previous = ((await first.json()) as { id: string }).id;
    for (let turn = 1; turn < 6; turn++) {
      const stream = turn % 2 === 0;
      const res = await post("/v1/responses", {
        model: MODEL,
        input: `turn ${turn}`,
        max_output_tokens: 3,
        previous_response_id: previous,
        stream,
      });
      expect(res.status).toBe(200);
      expect(servedBy(res)).toBe(home);
      if (!stream) previous = ((await res.json()) as { id: string }).id;
      else {
        const events = sseData(await res.text()).map(
          (d) => JSON.parse(d) as { type: string; response?: { id: string } },
        );
        const done = events.find((e) => e.type === "response.completed" || e.type === "response.incomplete");
        expect(done?.response?.id).toBeTruthy();
        previous = done!.response!.id;
      }
    }
    const stored = await fetch(`${ctx.url()}/v1/responses/${previous}`, {
      signal: AbortSignal.timeout(15_000),
    });
    expect(stored.status).toBe(200);
    expect(servedBy(stored)).toBe(home);
    expect(((await stored.json()) as { id: string }).id).toBe(previous);
  }, 30_000);

  test("a transcription upload (multipart) is routed by its model field", async () => {
    const form = new FormData();
    form.append("model", MODEL);
    form.append("file", new Blob([new Uint8Array(4000)], { type: "audio/wav" }), "speech.wav");
    const res = await fetch(`${ctx.url()}/v1/audio/transcriptions`, {
      method: "POST",
      body: form,
      signal: AbortSignal.timeout(15_000),
    });
    expect(res.status).toBe(200);
    expect(ctx.pods().addresses.slice(0, 2)).toContain(servedBy(res) ?? "");
    expect(((await res.json()) as { text: string }).text.length).toBeGreaterThan(0);
    const json = await post("/v1/audio/transcriptions", { model: MODEL });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: { code: string } }).error.code).toBe("unsupported_content_type");
  }, 20_000);

  test("an answer given before the body is read leaves the gateway serving the next request", async () => {
    // JSON to the form route is refused on its content type, before its body is read: with a
    // large body the runtime is still taking it in when the 400 goes out (workerd restarted
    // the Worker then, and the requests in flight got 503).
    const big = { model: MODEL, file: "x".repeat(2 * 1024 * 1024) };
    const refused = await post("/v1/audio/transcriptions", big);
    expect(refused.status).toBe(400);
    await refused.arrayBuffer();
    const next = await post("/v1/chat/completions", {
      model: MODEL,
      max_tokens: 2,
      messages: [{ role: "user", content: "Hello" }],
    });
    expect(next.status).toBe(200);
  }, 20_000);

  test("/v1/messages answers in Anthropic's shapes, errors too", async () => {
    const res = await post("/v1/messages", {
      model: MODEL,
      max_tokens: 4,
      system: "be brief",
      messages: [{ role: "user", content: "Hello" }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      type: string;
      content: { type: string }[];
      usage: { output_tokens: number };
    };
    expect(body.type).toBe("message");
    expect(body.content[0]?.type).toBe("text");
    expect(body.usage.output_tokens).toBe(4);
    const bad = await post("/v1/messages", { model: MODEL, messages: [{ role: "user", content: "x" }] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  }, 20_000);

  test("rerank goes to the embedding pool's pod", async () => {
    const res = await post("/v1/rerank", {
      model: EMBED_MODEL,
      query: "capital of France",
      documents: ["Paris", "a cat"],
    });
    expect(res.status).toBe(200);
    expect(servedBy(res)).toBe(ctx.pods().addresses[2]!);
    expect(((await res.json()) as { results: unknown[] }).results.length).toBe(2);
  }, 20_000);
}
