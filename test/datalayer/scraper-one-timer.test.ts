/**
 * Targets due in the same millisecond share one timer (fourteenth pass: one timer a tick, not
 * one a target): it starts them all; a target removed leaves the timer to the others, and the
 * timer goes with the millisecond's last target. Fake time; every armed timer is counted.
 */
import { expect, test } from "bun:test";
import { BUILTIN_ENGINES } from "../../src/datalayer/engines.ts";
import { createScraper } from "../../src/datalayer/scraper.ts";
import { FakeTime } from "../helpers/fake-time.ts";

const PAGE = "vllm:num_requests_waiting 0\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0.5\n";
const HOUR = 3_600_000;

function setup() {
  const time = new FakeTime();
  const armed: number[] = [];
  const started: string[] = [];
  const scraper = createScraper({
    clock: time.clock,
    setTimer: (fn, ms) => {
      armed.push(ms);
      return time.setTimer(fn, ms);
    },
    intervalMs: 50,
    // Its own (abandon) timers are armed for this long: told apart from the grid's.
    timeoutMs: HOUR,
    engines: BUILTIN_ENGINES,
    fetch: async (url) => {
      started.push(url);
      return new Response(PAGE);
    },
    onSnapshot: () => {},
  });
  const gridTimers = () => armed.filter((ms) => ms < HOUR).length;
  return { time, scraper, started, gridTimers };
}

const targets = (names: string[]) => names.map((name) => ({ name, url: `http://${name}/m`, engine: "vllm" }));

test("four targets on one grid: one timer a tick starts all four", async () => {
  const { time, scraper, started, gridTimers } = setup();
  scraper.setTargets(targets(["a", "b", "c", "d"]));
  expect(gridTimers()).toBe(1);
  await time.advanceAsync(0);
  expect(started.length).toBe(4);
  for (let tick = 1; tick <= 10; tick++) {
    await time.advanceAsync(50);
    expect(started.length).toBe(4 * (tick + 1));
  }
  expect(gridTimers()).toBe(12); // the first, and one armed after each of the 11 ticks (4 a tick before)
  scraper.stop();
  expect(time.pending).toBe(0);
});

test("a removed target leaves the shared timer to the others; the last one removed cancels it", async () => {
  const { time, scraper, started } = setup();
  scraper.setTargets(targets(["a", "b"]));
  await time.advanceAsync(0);
  expect(time.pending).toBe(1);
  scraper.setTargets(targets(["b"]));
  expect(time.pending).toBe(1);
  await time.advanceAsync(50);
  expect(started.slice(2)).toEqual(["http://b/m"]);
  scraper.setTargets([]);
  expect(time.pending).toBe(0);
  await time.advanceAsync(500);
  expect(started.length).toBe(3);
});
