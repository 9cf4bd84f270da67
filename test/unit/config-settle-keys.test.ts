import { expect, test } from "bun:test";
import { ConfigHolder } from "../../src/config/holder.ts";
import { parseConfig } from "../../src/config/load.ts";
import { reloadConfig } from "../../src/config/reload.ts";
import { createLogger } from "../../src/log.ts";
import { settledText } from "../../src/runtime/watch-config.ts";
import { FakeTime } from "../helpers/fake-time.ts";

const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"; // sha256("test")

/** A key limited to model m, its `models:` line last, as a writer may not have reached yet. */
const FULL = `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
logLevel: silent
endpoints:
  - { name: a, address: "10.0.0.1:8000", models: [m, m2] }
auth:
  apiKeys:
    - name: team
      sha256: ${SHA}
      models: [m]
`;
const HALF = FULL.slice(0, FULL.indexOf("      models: [m]"));

function harness(holder: ConfigHolder) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("info", (l) => lines.push(JSON.parse(l)));
  const time = new FakeTime();
  const file = { text: "" };
  const settled = settledText(
    async () => file.text,
    async (text, stableForMs) => {
      const r = await reloadConfig(holder, text, "gw.yaml", logger, { stableForMs, confirmMs: 3000 });
      return typeof r === "object" ? r : undefined;
    },
    { settleMs: 500, setTimer: time.setTimer },
  );
  const write = (text: string) => {
    file.text = text;
    settled.changed();
  };
  return { lines, time, write, settled };
}

const limitOf = (holder: ConfigHolder) => holder.current.settings.auth.apiKeys[0]?.models;

test("a writer pausing before a key's models line never lifts that key's model limit", async () => {
  const holder = new ConfigHolder(parseConfig(FULL, "gw.yaml"));
  const h = harness(holder);
  h.write(HALF);
  for (let i = 0; i < 20; i++) {
    await h.time.advanceAsync(100); // a 2 s pause, four times the settle time
    expect(limitOf(holder)).toEqual(["m"]);
  }
  expect(h.lines.some((l) => l["level"] === "warn" && JSON.stringify(l).includes("model limit"))).toBe(true);
  h.write(FULL);
  await h.time.advanceAsync(5000);
  expect(limitOf(holder)).toEqual(["m"]);
  h.settled.stop();
});

test("lifting a key's model limit on purpose is taken once the file is stable, and logged at warn", async () => {
  const holder = new ConfigHolder(parseConfig(FULL, "gw.yaml"));
  const h = harness(holder);
  h.write(HALF);
  await h.time.advanceAsync(4000);
  expect(limitOf(holder)).toBeUndefined();
  const loud = h.lines.find((l) => l["level"] === "warn" && String(l["msg"]).startsWith("config reloaded"));
  expect(String(loud?.["msg"])).toContain("lifts the model limit of API key team");
  h.settled.stop();
});
