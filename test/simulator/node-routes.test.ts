import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Child, startChild, waitFor } from "../runtime/harness.ts";
import { parseEvents } from "./helpers.ts";

// The simulator's CLI under Node (tsx), as `npm run sim` users on Node run it: the new
// routes, multipart included, work on Node's web APIs (undici's Request.formData()) too.

const children: Child[] = [];
const urls: string[] = [];

async function startSim(args: string[]): Promise<string> {
  const child = startChild([
    "node",
    "--import",
    "tsx",
    "src/simulator/cli.ts",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--jitter",
    "0",
    "--time-scale",
    "0.01",
    ...args,
  ]);
  children.push(child);
  const port = await waitFor(
    "the simulator's printed URL",
    () => {
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(child.output());
      return m ? Number(m[1]) : undefined;
    },
    { timeoutMs: 30_000, child },
  );
  return `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  urls.push(
    ...(await Promise.all([
      startSim(["--model", "gen"]),
      startSim(["--model", "emb", "--runner", "pooling"]),
    ])),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
}, 20_000);

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("the simulator CLI under Node", () => {
  test("embeddings on a pooling pod, refused on a generation pod", async () => {
    const res = await post(`${urls[1]}/v1/embeddings`, {
      model: "emb",
      input: "hello",
      encoding_format: "base64",
    });
    expect(res.status).toBe(200);
    const b64 = (await res.json()).data[0].embedding as string;
    expect(atob(b64).length).toBe(384 * 4);
    expect((await post(`${urls[0]}/v1/embeddings`, { model: "gen", input: "hello" })).status).toBe(400);
  });

  test("a streamed response, then a follow-up naming it", async () => {
    const res = await post(`${urls[0]}/v1/responses`, {
      model: "gen",
      input: "hi",
      max_output_tokens: 2,
      stream: true,
    });
    const events = parseEvents(await res.text());
    const done = events.at(-1)!;
    expect(done.event).toBe("response.completed");
    const id = (done.data.response as { id: string }).id;
    const next = await post(`${urls[0]}/v1/responses`, {
      model: "gen",
      input: "more",
      previous_response_id: id,
      max_output_tokens: 1,
    });
    expect(next.status).toBe(200);
  });

  test("a multipart transcription upload", async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(32_000)]), "a.raw");
    form.append("model", "gen");
    const res = await fetch(`${urls[0]}/v1/audio/transcriptions`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      text: "hello world simulated",
      usage: { type: "duration", seconds: 1 },
    });
  });
});
