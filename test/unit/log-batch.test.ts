import { expect, test } from "bun:test";
import { BATCH_DELAY_MS, batchedConsole, createLogger, MAX_LOG_FIELD } from "../../src/log.ts";
import { FakeTime } from "../helpers/fake-time.ts";

function setup() {
  const time = new FakeTime();
  const writes: string[] = [];
  const logger = createLogger(
    "info",
    batchedConsole(time.setTimer, (t) => writes.push(t)),
  );
  return { time, writes, logger };
}

test("request lines within BATCH_DELAY_MS go out in one write, in order, when its timer fires", () => {
  const { time, writes, logger } = setup();
  logger.info("request", { i: 0 });
  time.advance(BATCH_DELAY_MS - 1);
  for (let i = 1; i < 3; i++) logger.info("request", { i });
  expect(writes).toEqual([]);
  time.advance(1);
  expect(writes.length).toBe(1);
  expect(writes[0]!.split("\n").map((l) => JSON.parse(l).i)).toEqual([0, 1, 2]);
  time.advance(10 * BATCH_DELAY_MS);
  expect(writes.length).toBe(1);
  // The next line starts a new batch with its own timer.
  logger.info("request", { i: 3 });
  time.advance(BATCH_DELAY_MS);
  expect(writes.length).toBe(2);
});

test("a warning or an error goes out at once, after the lines pending before it", () => {
  const { writes, logger } = setup();
  logger.info("request", { i: 1 });
  logger.error("broken", { why: "x" });
  expect(writes.length).toBe(2);
  expect(JSON.parse(writes[0]!).i).toBe(1);
  expect(JSON.parse(writes[1]!)).toMatchObject({ level: "error", msg: "broken", why: "x" });
});

test("64 KiB of pending lines are written without waiting for the timer", () => {
  const { writes, logger } = setup();
  const big = "x".repeat(1000);
  for (let i = 0; i < 70; i++) logger.info("request", { big });
  expect(writes.length).toBe(1);
});

test("fields are cut as before, one level into plain objects", () => {
  const lines: string[] = [];
  const logger = createLogger("info", (l) => lines.push(l));
  const long = "m".repeat(MAX_LOG_FIELD + 10);
  logger.info("x", { model: long, nested: { model: long }, n: 3 });
  const o = JSON.parse(lines[0]!);
  expect(o.model.startsWith("m".repeat(MAX_LOG_FIELD))).toBe(true);
  expect(o.model.length).toBeLessThan(MAX_LOG_FIELD + 30);
  expect(o.nested.model.length).toBe(o.model.length);
  expect(o.n).toBe(3);
  expect(Object.keys(o).slice(0, 3)).toEqual(["time", "level", "msg"]);
});

test("flush writes what is pending at once (the process is about to exit)", () => {
  const { writes, logger } = setup();
  logger.info("last request");
  logger.flush?.();
  expect(writes.length).toBe(1);
});
