import { describe, expect, test } from "bun:test";
import {
  decodeSessionToken,
  encodeSessionToken,
  SESSION_TOKEN_HEADER,
  sessionAffinityScorer,
  sessionHeaderName,
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

describe("sessionHeaderName: the header answers carry is the one the scorer reads", () => {
  const plugin = (parameters?: unknown) => ({ plugins: [{ type: "session-affinity-scorer", parameters }] });
  test.each<{ case: string; config: Parameters<typeof sessionHeaderName>[0]; want: string | undefined }>([
    { case: "no config", config: undefined, want: undefined },
    { case: "no session scorer", config: { plugins: [{ type: "queue-scorer" }] }, want: undefined },
    { case: "default name", config: plugin(), want: SESSION_TOKEN_HEADER },
    { case: "custom headerName", config: plugin({ headerName: "x-affinity" }), want: "x-affinity" },
    { case: "parameters the registry refuses", config: plugin({ headerName: "" }), want: undefined },
  ])("$case", ({ config, want }) => {
    expect(sessionHeaderName(config)).toBe(want);
  });

  test("a token handed out under the configured name is scored by a scorer reading that name", () => {
    const name = sessionHeaderName(plugin({ headerName: "x-affinity" }))!;
    const [header, token] = sessionTokenHeader(eps[1]!, name);
    const ctx = context({ request: request({ headers: { [header]: token } }) });
    expect(asArray(sessionAffinityScorer({ headerName: name }).score(ctx, eps), eps)).toEqual([0, 1]);
  });
});
