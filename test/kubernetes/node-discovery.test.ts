import { expect, test } from "bun:test";
import { FakeApiServer } from "./fake-apiserver.ts";
import { NS, pod, pool, writeKubeconfig } from "./fake-objects.ts";

/** Discovery runs on Node too (its own fetch path): the same many-pool answer as under Bun. */
test("under Node, many-pool discovery reports each namespace's pools and pods", async () => {
  const api = await FakeApiServer.start();
  try {
    const prod = { labels: { tier: "prod" } };
    api.apply(pool({ app: "a" }, [8000], "alpha", prod));
    api.apply(pool({ app: "b" }, [8001], "alpha", { ...prod, namespace: "team-b" }));
    api.apply(pod("vllm-0", { ip: "10.0.0.1", labels: { app: "a" } }));
    api.apply(pod("vllm-0", { ip: "10.0.1.1", labels: { app: "b" }, namespace: "team-b" }));
    const proc = Bun.spawn(
      [
        "node",
        "--import",
        "tsx",
        "test/kubernetes/node-discovery-script.ts",
        writeKubeconfig(api.url, api.token),
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(r.runtime).toStartWith("node ");
    expect(r.pools).toEqual(["alpha", "team-b/alpha"]);
    expect(r.endpoints).toEqual({ alpha: [`${NS}/vllm-0:8000`], "team-b/alpha": ["team-b/vllm-0:8001"] });
  } finally {
    await api.stop();
  }
}, 30_000);
