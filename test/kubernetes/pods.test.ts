import { describe, expect, test } from "bun:test";
import type { InferencePool } from "../../src/config/resources.ts";
import { type PodInfo, podInfo, poolEndpoints } from "../../src/kubernetes/pods.ts";
import { pod } from "./fake-objects.ts";

const thePool = (ports: number[], matchLabels: Record<string, string> = { app: "vllm" }) =>
  ({
    apiVersion: "inference.networking.k8s.io/v1",
    kind: "InferencePool",
    metadata: { name: "p" },
    spec: {
      selector: { matchLabels },
      targetPorts: ports.map((number) => ({ number })),
      appProtocol: "http",
    },
  }) as InferencePool;

const info = (name: string, over: Partial<PodInfo> = {}): PodInfo => ({
  name,
  labels: { app: "vllm" },
  ip: "10.0.0.1",
  ready: true,
  terminating: false,
  ...over,
});

describe("pods -> endpoints", () => {
  test.each([
    ["ready with an IP", info("a"), ["a:8000"]],
    ["not ready", info("a", { ready: false }), []],
    ["no IP", info("a", { ip: undefined }), []],
    ["terminating", info("a", { terminating: true }), []],
    ["labels not matching the selector", info("a", { labels: { app: "other" } }), []],
  ] as const)("%s", (_what, p, names) => {
    expect(poolEndpoints(thePool([8000]), [p]).map((e) => e.name)).toEqual([...names]);
  });

  test("one endpoint per target port, ordered by pod name then port; IPv6 addresses are bracketed", () => {
    const eps = poolEndpoints(thePool([8001, 8000]), [info("b", { ip: "fd00::2" }), info("a")]);
    expect(eps.map((e) => [e.name, e.address])).toEqual([
      ["a:8001", "10.0.0.1:8001"],
      ["a:8000", "10.0.0.1:8000"],
      ["b:8001", "[fd00::2]:8001"],
      ["b:8000", "[fd00::2]:8000"],
    ]);
  });

  test("podInfo reads Ready, podIP and deletionTimestamp from a real-shaped Pod", () => {
    expect(podInfo(pod("x", { ip: "10.1.1.1", ready: true }))).toMatchObject({
      ip: "10.1.1.1",
      ready: true,
      terminating: false,
    });
    expect(podInfo(pod("x", { ready: false }))).toMatchObject({ ip: undefined, ready: false });
    const gone = pod("x", { ip: "10.1.1.1" });
    gone.metadata!["deletionTimestamp"] = "2025-01-01T00:00:00Z";
    expect(podInfo(gone)!.terminating).toBe(true);
  });
});
