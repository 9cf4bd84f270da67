import { expect, test } from "bun:test";
import { ConfigHolder } from "../../src/config/holder.ts";
import { parseConfig } from "../../src/config/load.ts";
import { reloadConfig } from "../../src/config/reload.ts";
import { createGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { settledText } from "../../src/runtime/watch-config.ts";
import { FakeTime } from "../helpers/fake-time.ts";

const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"; // sha256("test")

const FULL = `apiVersion: gateway.inference.dev/v1alpha1
kind: GatewayConfig
logLevel: silent
catalog: { defaultOwner: edited }
endpoints:
  - { name: a, address: "10.0.0.1:8000", models: [m] }
auth:
  apiKeys:
    - { name: team, sha256: ${SHA} }
`;
/** The same file cut before its auth block, as a writer that paused mid-file leaves it. */
const HALF = FULL.slice(0, FULL.indexOf("auth:"));

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger("info", (l) => lines.push(JSON.parse(l))) };
}

/** A file in memory, a settled reader over it, and what reached the receiver. */
function harness(onText: Parameters<typeof settledText>[1], settleMs = 500) {
  const time = new FakeTime();
  const file = { text: "" as string | undefined };
  const settled = settledText(async () => file.text, onText, { settleMs, setTimer: time.setTimer });
  const write = (text: string) => {
    file.text = text;
    settled.changed();
  };
  return { time, write, settled };
}

test("only a file that reads the same for the settle time is reported, once", async () => {
  const seen: string[] = [];
  const h = harness((t) => void seen.push(t));
  h.write("a: 1\nb:");
  await h.time.advanceAsync(300); // the writer pauses shorter than the settle time
  h.write("a: 1\nb: 2\n");
  await h.time.advanceAsync(400);
  expect(seen).toEqual([]);
  await h.time.advanceAsync(2000);
  expect(seen).toEqual(["a: 1\nb: 2\n"]);
  h.settled.changed(); // an event without a change (touch) reports nothing new
  await h.time.advanceAsync(2000);
  expect(seen).toEqual(["a: 1\nb: 2\n"]);
  h.settled.stop();
});

test("a writer pausing mid-file before the auth block never opens the gateway", async () => {
  const base = parseConfig(FULL.replace("defaultOwner: edited", "defaultOwner: first"), "gw.yaml");
  const gateway = createGateway({ config: base, fetch: async () => Response.json({}) });
  const holder = gateway.deps.config;
  const { lines, logger } = capture();
  const h = harness(async (text, stableForMs) => {
    const r = await reloadConfig(holder, text, "gw.yaml", logger, { stableForMs, confirmMs: 3000 });
    return typeof r === "object" ? r : undefined;
  });
  const keyless = async () =>
    (
      await gateway.fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
        }),
      )
    ).status;

  h.write(HALF);
  for (let i = 0; i < 20; i++) {
    await h.time.advanceAsync(100); // a 2 s pause, longer than the settle time
    expect(holder.current.settings.auth.apiKeys.length).toBe(1);
  }
  expect(await keyless()).toBe(401);
  expect(lines.some((l) => l["level"] === "warn" && String(l["msg"]).includes("waiting"))).toBe(true);
  h.write(FULL);
  await h.time.advanceAsync(2000);
  expect(holder.current.settings.catalog.defaultOwner).toBe("edited");
  expect(holder.current.settings.auth.apiKeys.length).toBe(1);
  expect(await keyless()).toBe(401);
  h.settled.stop();
  await gateway.stop();
});

test("removing auth or every endpoint on purpose is taken once the file is stable, and logged at warn", async () => {
  const holder = new ConfigHolder(parseConfig(FULL, "gw.yaml"));
  const { lines, logger } = capture();
  const h = harness(async (text, stableForMs) => {
    const r = await reloadConfig(holder, text, "gw.yaml", logger, { stableForMs, confirmMs: 3000 });
    return typeof r === "object" ? r : undefined;
  });
  h.write(HALF.replace(/endpoints:\n.*\n/, ""));
  await h.time.advanceAsync(2000);
  expect(holder.current.settings.auth.apiKeys.length).toBe(1);
  await h.time.advanceAsync(2000);
  expect(holder.current.settings.auth.apiKeys.length).toBe(0);
  expect(holder.current.settings.endpoints.length).toBe(0);
  const loud = lines.find((l) => l["level"] === "warn" && String(l["msg"]).startsWith("config reloaded"));
  expect(String(loud?.["msg"])).toContain("removes every API key");
  expect(String(loud?.["msg"])).toContain("removes every static endpoint");
  h.settled.stop();
});

test("an empty file is refused on reload and at start-up", async () => {
  for (const text of ["", "\n# only a comment\n", "---\n"]) {
    expect(() => parseConfig(text, "gw.yaml")).toThrow("gw.yaml: <root>: at least one document");
    const holder = new ConfigHolder(parseConfig(FULL, "gw.yaml"));
    const { lines, logger } = capture();
    expect(await reloadConfig(holder, text, "gw.yaml", logger)).toBe(false);
    expect(lines[0]?.["level"]).toBe("error");
  }
});
