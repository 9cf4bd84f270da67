/**
 * The Workers entry in-process (no workerd): config from the var, the pool routing, and the
 * Durable Object's alarm-driven scraping, with fakes of the few Workers APIs it uses.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadWorkerConfig, poolNameOf } from "../../src/runtime/worker/config.ts";
import worker from "../../src/runtime/worker/index.ts";
import { GatewayPool } from "../../src/runtime/worker/pool.ts";
import type {
  DurableObjectId,
  DurableObjectNamespace,
  DurableObjectState,
  WorkerEnv,
} from "../../src/runtime/worker/types.ts";
import { gatewayYaml, MODEL, POOL, type Pods, startPods } from "./harness.ts";

const HEAD = "apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nlogLevel: silent\n";

function env(config: string | undefined, extra: Record<string, unknown> = {}): WorkerEnv {
  return { GATEWAY_POOL: fakeNamespace().namespace, GATEWAY_CONFIG: config, ...extra };
}

function fakeNamespace(answer: (name: string, request: Request) => Response = () => new Response("ok")) {
  const names: string[] = [];
  const namespace: DurableObjectNamespace = {
    idFromName: (name) => ({ toString: () => name }),
    get: (id: DurableObjectId) => ({
      fetch: async (request) => {
        names.push(id.toString());
        return answer(id.toString(), request);
      },
    }),
  };
  return { namespace, names };
}

function fakeState() {
  const alarms: number[] = [];
  const blocked: Promise<unknown>[] = [];
  const state: DurableObjectState = {
    storage: {
      getAlarm: async () => alarms.at(-1) ?? null,
      setAlarm: async (t) => {
        alarms.push(Number(t));
      },
      deleteAlarm: async () => {},
    },
    blockConcurrencyWhile: (fn) => {
      const p = fn();
      blocked.push(p);
      return p;
    },
    waitUntil: () => {},
  };
  return { state, alarms, blocked };
}

describe("the Worker's config (GATEWAY_CONFIG var)", () => {
  test("a missing var names the var to set", () => {
    expect(() => loadWorkerConfig(env(undefined))).toThrow(/GATEWAY_CONFIG/);
  });

  test.each([
    ["kubernetes: { pool: p }", /kubernetes: .*static endpoints only/],
    ["simulator: { pods: [{ port: 8001, model: m }] }", /simulator: /],
    ["auth: { apiKeysFile: /keys.yaml }", /auth.apiKeysFile: /],
    ["auth: { apiKeysEnv: KEYS }", /auth.apiKeysEnv: .*KEYS/],
    ["upstream: { credential: { valueFromEnv: POD_KEY } }", /valueFromEnv: .*POD_KEY/],
  ])("%s is refused with what to do instead", (line, message) => {
    expect(() => loadWorkerConfig(env(HEAD + line))).toThrow(message);
  });

  test("secrets named by the config come from the Worker's bindings", () => {
    const keys = JSON.stringify([{ name: "ci", sha256: "a".repeat(64), tenant: "team-a" }]);
    const config = loadWorkerConfig(
      env(`${HEAD}auth: { apiKeysEnv: KEYS }\nupstream: { credential: { valueFromEnv: POD_KEY } }`, {
        KEYS: keys,
        POD_KEY: "Bearer s3cret",
      }),
    );
    expect(config.settings.auth.apiKeys.map((k) => k.tenant)).toEqual(["team-a"]);
    expect(config.settings.upstream.credential?.value).toBe("Bearer s3cret");
  });

  test("the Durable Object is named after the pool", () => {
    expect(poolNameOf(loadWorkerConfig(env(gatewayYaml(["127.0.0.1:1"]))))).toBe(POOL);
    expect(poolNameOf(loadWorkerConfig(env(HEAD)))).toBe("default");
  });
});

describe("the Worker's fetch handler", () => {
  test("every request goes to the pool's one Durable Object", async () => {
    const { namespace, names } = fakeNamespace((name) => new Response(`object ${name}`));
    const e = { GATEWAY_POOL: namespace, GATEWAY_CONFIG: gatewayYaml(["127.0.0.1:1"]) };
    for (const path of ["/v1/models", "/v1/chat/completions", "/healthz"]) {
      const res = await worker.fetch(new Request(`http://gw${path}`), e);
      expect(await res.text()).toBe(`object ${POOL}`);
    }
    expect(names).toEqual([POOL, POOL, POOL]);
  });

  test("a broken config is a 500 OpenAI error naming the field", async () => {
    const { namespace, names } = fakeNamespace();
    const res = await worker.fetch(new Request("http://gw/v1/models"), {
      GATEWAY_POOL: namespace,
      GATEWAY_CONFIG: `${HEAD}port: eighty`,
    });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("config_error");
    expect(body.error.message).toContain("port");
    expect(names).toEqual([]);
  });
});

describe("the pool's Durable Object", () => {
  let pods: Pods;
  beforeAll(async () => {
    pods = await startPods();
  });
  afterAll(async () => {
    await pods.close();
  });

  test("it scrapes before its first request and on every alarm, re-arming the alarm each time", async () => {
    const { state, alarms, blocked } = fakeState();
    const yaml = gatewayYaml(pods.addresses).replace("logLevel: warn", "logLevel: silent");
    const before = pods.scrapes();
    const pool = new GatewayPool(state, env(yaml));
    expect(blocked).toHaveLength(1);
    await blocked[0];
    expect(pods.scrapes()).toBe(before + pods.pods.length); // one per pod (both pools), before any request is let in
    expect(alarms).toHaveLength(1);
    expect(alarms[0]! - Date.now()).toBeLessThanOrEqual(50);

    const ready = await pool.fetch(new Request("http://gw/readyz"));
    expect(ready.status).toBe(200);
    const models = (await (await pool.fetch(new Request("http://gw/v1/models"))).json()) as {
      data: { id: string }[];
    };
    expect(models.data.map((m) => m.id)).toContain(MODEL);

    await pool.alarm();
    expect(pods.scrapes()).toBe(before + 2 * pods.pods.length);
    expect(alarms).toHaveLength(2);
  });

  test("with a broken config every request gets a 500 that says what to fix", async () => {
    const { state, alarms } = fakeState();
    const pool = new GatewayPool(state, env(`${HEAD}kubernetes: {}`));
    const res = await pool.fetch(new Request("http://gw/v1/models"));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("kubernetes");
    await pool.alarm();
    expect(alarms).toEqual([]);
  });
});
