import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Under Node: LightHeaders stands in for undici's Headers there (Bun keeps its own).
test("LightHeaders behaves as Node's Headers, the proxy's copies match, and the Node gateway calls no platform Headers per request", () => {
  const script = fileURLToPath(new URL("./node-headers-check.mts", import.meta.url));
  const run = spawnSync("node", ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000 });
  expect(run.stderr).toBe("");
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  // 200 seeded runs of 12 appends, sets, deletes, gets and has (bad names and values, cookie,
  // set-cookie, mixed case, padded values): the same result, entries, get/has and errors.
  expect(out.differential).toEqual({ mismatches: 0, firstMismatch: [] });
  // Every kind of init (none, null, a number, a string, a record, pairs, bad pairs, a Headers,
  // a Map): the same entries or the same refusal.
  expect(out.constructors).toEqual({ mismatches: 0, tried: 11 });
  expect(out.fromRaw).toEqual({
    same: true,
    pairs: ["cookie", "a=1; b=2", "host", "gw", "set-cookie", "s=1", "set-cookie", "t=2", "x-a", "1, 2"],
    platformCopy: true,
    instance: true,
    responseFrom: "a=1; b=2",
    badRaw: "TypeError",
    record: [
      ["x-r", "1"],
      ["y", "2"],
    ],
    list: [["x-l", "1"]],
  });
  // Hop-by-hop, Connection-listed, gateway-control and credential names: the same copies.
  expect(out.copies.upstream[0]).toEqual(out.copies.upstream[1]);
  expect(out.copies.upstream[0].map((e: string[]) => e[0])).toEqual([
    "accept-encoding",
    "content-type",
    "cookie",
    "x-custom",
  ]);
  expect(out.copies.upstreamAuth[0]).toEqual(out.copies.upstreamAuth[1]);
  expect(out.copies.upstreamAuth[0].map((e: string[]) => e[0])).toContain("authorization");
  expect(out.copies.downstream[0]).toEqual(out.copies.downstream[1]);
  expect(out.copies.downstream[0]).toEqual([
    ["content-type", "text/event-stream"],
    ["date", "today"],
    ["set-cookie", "s=1"],
    ["set-cookie", "t=2"],
  ]);
  expect(out.copies.lightStaysLight).toBe(true);
  // Through the whole gateway (JSON, then SSE): no platform Headers method runs (46 and 49 before).
  expect(out.gateway.nativeCalls).toEqual([0, 0]);
  const common = [
    "date",
    "set-cookie: s=1",
    "set-cookie: t=2",
    "x-gateway-destination-endpoint-served",
    "x-gateway-target-model: m",
    "x-pod: p",
    "x-request-id",
  ];
  // What the client gets, in the order it went out before (the pod's connection header not passed on).
  expect(out.gateway.answers).toEqual([
    {
      status: 200,
      headers: [
        "content-type: application/json",
        ...common,
        "content-length: 209",
        "connection: keep-alive",
        "keep-alive: timeout=5",
      ],
    },
    {
      status: 200,
      headers: [
        "content-type: text/event-stream",
        ...common,
        // The pod sent its stream at once: it goes out as bytes, with a length (thirteenth pass).
        "content-length: 126",
        "connection: keep-alive",
        "keep-alive: timeout=5",
      ],
    },
  ]);
  const sent = { custom: "kept", cookie: "a=1", accept: "identity", type: "application/json", id: true };
  expect(out.gateway.sent).toEqual([sent, sent]);
}, 40_000);
