import { describe, expect, test } from "bun:test";
import {
  decodeSessionToken,
  encodeSessionToken,
  SESSION_TOKEN_HEADER,
  sessionAffinityScorer,
  sessionTokenHeader,
} from "../../plugins/session-affinity-scorer.ts";
import { asArray, context, endpoint, request } from "./helpers.ts";

const eps = [endpoint("pod-a:8000"), endpoint("pod-b:8000")];

describe("session-affinity-scorer", () => {
  test.each([{ name: "pod-a:8000" }, { name: "ns/pod-ü:8000" }, { name: "" }])(
    "token round-trips: $name",
    ({ name }) => {
      expect(decodeSessionToken(encodeSessionToken(name))).toBe(name);
    },
  );

  test("the token is base64 of the endpoint name", () => {
    expect(encodeSessionToken("pod-a:8000")).toBe(btoa("pod-a:8000"));
    expect(sessionTokenHeader(eps[0]!)).toEqual([SESSION_TOKEN_HEADER, btoa("pod-a:8000")]);
  });

  test.each<{ case: string; headers: Record<string, string>; want: number[] }>([
    { case: "token names pod-b", headers: { "x-session-token": btoa("pod-b:8000") }, want: [0, 1] },
    { case: "no header", headers: {}, want: [0, 0] },
    { case: "unknown endpoint", headers: { "x-session-token": btoa("gone:8000") }, want: [0, 0] },
    { case: "not base64", headers: { "x-session-token": "%%%" }, want: [0, 0] },
    { case: "base64 of invalid UTF-8", headers: { "x-session-token": btoa("\xff\xfe") }, want: [0, 0] },
  ])("$case", ({ headers, want }) => {
    const ctx = context({ request: request({ headers }) });
    expect(asArray(sessionAffinityScorer().score(ctx, eps), eps)).toEqual(want);
  });

  test("custom header name", () => {
    const ctx = context({ request: request({ headers: { "x-affinity": btoa("pod-a:8000") } }) });
    expect(asArray(sessionAffinityScorer({ headerName: "x-affinity" }).score(ctx, eps), eps)).toEqual([1, 0]);
  });
});

describe("the answer carries the token of the endpoint that served", () => {
  test("ResponseReceived sets headerName to that endpoint; the scorer reads it back", () => {
    const scorer = sessionAffinityScorer({ headerName: "x-affinity" });
    const headers = new Headers();
    scorer.responseReceived(context(), { endpoint: eps[1]!, status: 200, headers });
    const ctx = context({ request: request({ headers: { "x-affinity": headers.get("x-affinity")! } }) });
    expect(asArray(scorer.score(ctx, eps), eps)).toEqual([0, 1]);
  });
});
