import { describe, expect, test } from "bun:test";
import { matchRule } from "../../src/aigw/match.ts";
import { POOL, testConfig } from "../helpers/config.ts";

/** An AIGatewayRoute whose rules all send to the pool; `meta` adds metadata lines. */
const route = (name: string, rules: string, spec = "", meta = "") => `
apiVersion: aigateway.envoyproxy.io/v1beta1
kind: AIGatewayRoute
metadata:
  name: ${name}
${meta}
spec:
${spec}
  rules:
${rules}`;
const toPool = "      backendRefs: [{ name: pool, group: inference.networking.k8s.io, kind: InferencePool }]";
const h = (name: string, value: string) => `{ type: Exact, name: ${name}, value: ${value} }`;

const pick = (docs: string[], model: string, headers: Record<string, string> = {}) =>
  matchRule(testConfig({}, POOL, ...docs).routes!, { headers: new Headers(headers), model })?.id;

describe("which rule a request gets, as the Gateway API orders HTTPRoute matches", () => {
  test("each match competes by its own header count, not by its rule's largest match", () => {
    const docs = [
      route(
        "r",
        `    - matches:
        - headers: [${h("x-ai-eg-model", "x")}, ${h("x-tier", "gold")}, ${h("x-region", "eu")}]
        - headers: [${h("x-ai-eg-model", "y")}]
${toPool}
    - matches: [{ headers: [${h("x-ai-eg-model", "y")}, ${h("x-tier", "gold")}] }]
${toPool}`,
      ),
    ];
    expect(pick(docs, "y", { "x-tier": "gold" })).toContain("rules[1]");
    expect(pick(docs, "y")).toContain("rules[0]");
    expect(pick(docs, "x", { "x-tier": "gold", "x-region": "eu" })).toContain("rules[0]");
  });

  test("a route naming the request's host exactly wins over a wildcard, and a wildcard over no hostnames", () => {
    const rule = `    - matches: [{ headers: [${h("x-ai-eg-model", "m")}] }]\n${toPool}`;
    const docs = [
      route("any-host", rule),
      route("wild", rule, '  hostnames: ["*.example.com"]'),
      route("exact", rule, '  hostnames: ["api.example.com"]'),
    ];
    expect(pick(docs, "m", { host: "api.example.com" })).toContain("AIGatewayRoute/exact");
    expect(pick(docs, "m", { host: "other.example.com:8080" })).toContain("AIGatewayRoute/wild");
    expect(pick(docs, "m", { host: "localhost" })).toContain("AIGatewayRoute/any-host");
  });

  test("ties between routes: the oldest creationTimestamp, then namespace/name in alphabetical order", () => {
    const rule = `    - matches: [{ headers: [${h("x-ai-eg-model", "m")}] }]\n${toPool}`;
    expect(pick([route("b", rule), route("a", rule)], "m")).toContain("AIGatewayRoute/a");
    const older = '  creationTimestamp: "2024-01-01T00:00:00Z"';
    const newer = '  creationTimestamp: "2025-01-01T00:00:00Z"';
    expect(pick([route("b", rule, "", older), route("a", rule, "", newer)], "m")).toContain(
      "AIGatewayRoute/b",
    );
    // Within one route, the first rule wins a tie.
    expect(pick([route("r", `${rule}\n${rule}`)], "m")).toContain("rules[0]");
  });
});
