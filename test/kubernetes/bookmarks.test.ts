import { afterEach, describe, expect, test } from "bun:test";
import { createApiClient } from "../../src/kubernetes/api-client.ts";
import { type PodInfo, podInfo } from "../../src/kubernetes/pods.ts";
import { Reflector } from "../../src/kubernetes/reflector.ts";
import { silentLogger } from "../../src/log.ts";
import { FakeApiServer } from "./fake-apiserver.ts";
import { NS, pod } from "./fake-objects.ts";
import { TEST_TUNING, until } from "./helpers.ts";

let server: FakeApiServer | undefined;
let reflector: Reflector<PodInfo> | undefined;
afterEach(async () => {
  await reflector?.stop();
  await server?.stop();
  reflector = server = undefined;
});

async function start(opts: { bookmarkIntervalMs: number }) {
  server = await FakeApiServer.start(opts);
  server.apply(pod("vllm-0", { ip: "10.0.0.1" }));
  let items: ReadonlyMap<string, PodInfo> = new Map();
  reflector = new Reflector<PodInfo>({
    client: createApiClient({
      server: server.url,
      token: server.token,
      tls: { rejectUnauthorized: true },
      source: "test",
    }),
    path: `/api/v1/namespaces/${NS}/pods`,
    query: { labelSelector: "app=vllm" },
    what: "pods",
    kind: { apiVersion: "v1", kind: "Pod" },
    decode: podInfo,
    onChange: (x) => {
      items = new Map(x);
    },
    logger: silentLogger(),
    tuning: TEST_TUNING,
  }).start();
  await reflector.synced;
  await until(() => server!.openWatches === 1 || undefined, "the watch to open");
  return { items: () => items };
}

const podWatches = () => server!.requests.filter((r) => r.watch);

describe("kubernetes reflector: bookmarks", () => {
  test("a BOOKMARK advances the resourceVersion, and the re-watch after the stream ends uses it", async () => {
    await start({ bookmarkIntervalMs: 0 });
    const listRv = reflector!.resourceVersion!;
    expect(podWatches()[0]!.query["resourceVersion"]).toBe(listRv);
    // Changes the label-selected watch never sees move the global RV on.
    server!.apply(pod("other-0", { ip: "10.9.9.9", labels: { app: "other" } }));
    server!.apply(pod("other-1", { ip: "10.9.9.8", labels: { app: "other" } }));
    const bookmarkRv = server!.sendBookmarks();
    expect(Number(bookmarkRv)).toBeGreaterThan(Number(listRv));
    await until(() => reflector!.resourceVersion === bookmarkRv || undefined, "the bookmark's RV");

    server!.endWatches(); // as timeoutSeconds would
    await until(() => podWatches().length === 2 || undefined, "a re-watch");
    expect(podWatches()[1]!.query["resourceVersion"]).toBe(bookmarkRv);
    expect(server!.requests.filter((r) => !r.watch).length).toBe(1); // no re-list
  });

  test("without bookmarks the re-watch resumes from the last event's resourceVersion", async () => {
    const s = await start({ bookmarkIntervalMs: 0 });
    const added = server!.apply(pod("vllm-1", { ip: "10.0.0.2" }));
    await until(() => s.items().has("vllm-1") || undefined, "vllm-1");
    expect(reflector!.resourceVersion).toBe(added.metadata!.resourceVersion!);
    server!.endWatches();
    await until(() => podWatches().length === 2 || undefined, "a re-watch");
    expect(podWatches()[1]!.query["resourceVersion"]).toBe(added.metadata!.resourceVersion!);
  });

  test("periodic bookmarks keep the resourceVersion current on a quiet watch", async () => {
    await start({ bookmarkIntervalMs: 50 });
    server!.apply(pod("other-0", { ip: "10.9.9.9", labels: { app: "other" } }));
    const rv = server!.resourceVersion;
    await until(() => reflector!.resourceVersion === rv || undefined, "the RV from a periodic bookmark");
  });
});
