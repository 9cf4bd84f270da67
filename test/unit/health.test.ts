import { expect, test } from "bun:test";
import { PassiveHealth } from "../../src/endpoints/health.ts";
import { silentLogger } from "../../src/log.ts";

function tracker(probeResults: boolean[]) {
  const probes: string[] = [];
  const h = new PassiveHealth({
    logger: silentLogger(),
    ejectAfterFailures: () => 3,
    ejectionMs: () => 20,
    maxEjectionMs: 40,
    probe: async (name) => {
      probes.push(name);
      return probeResults.shift() ?? true;
    },
  });
  return { h, probes };
}

test("consecutive failures eject; a success in between resets the count", () => {
  const { h } = tracker([]);
  h.failure("a", "x");
  h.failure("a", "x");
  h.success("a");
  h.failure("a", "x");
  h.failure("a", "x");
  expect(h.isEjected("a")).toBe(false);
  expect(h.allHealthy).toBe(true);
  h.failure("a", "x");
  expect(h.isEjected("a")).toBe(true);
  expect(h.allHealthy).toBe(false);
  expect(h.ejected()).toEqual(["a"]);
  h.stop();
});

test("an ejected endpoint comes back after a successful probe; failed probes back off", async () => {
  const { h, probes } = tracker([false, true]);
  for (let i = 0; i < 3; i++) h.failure("a", "x");
  const deadline = Date.now() + 5000;
  while (h.isEjected("a") && Date.now() < deadline) await Bun.sleep(5);
  expect(h.isEjected("a")).toBe(false);
  expect(probes).toEqual(["a", "a"]);
  expect(h.allHealthy).toBe(true);
  h.stop();
});

test("removing an ejected endpoint forgets it and stops its probes", async () => {
  const { h, probes } = tracker([]);
  for (let i = 0; i < 3; i++) h.failure("a", "x");
  h.remove("a");
  expect(h.allHealthy).toBe(true);
  await Bun.sleep(60);
  expect(probes).toEqual([]);
  h.stop();
});
