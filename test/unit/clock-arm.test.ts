import { expect, test } from "bun:test";
import { arm, disarm, type SetTimer, systemTimer } from "../../src/clock.ts";
import { FakeTime } from "../helpers/fake-time.ts";

/**
 * Issue 19, tenth pass: `arm` keeps the runtime's own timer for `systemTimer` (no cancel
 * closure a timer on the hot path) and calls an injected timer as before.
 */
test("an injected timer is called as before, and disarm cancels it", () => {
  const time = new FakeTime();
  let fired = 0;
  const armed = arm(time.setTimer, () => fired++, 100);
  expect(typeof armed).toBe("function");
  disarm(armed);
  time.advance(200);
  expect(fired).toBe(0);
  arm(time.setTimer, () => fired++, 100);
  time.advance(100);
  expect(fired).toBe(1);
});

test("systemTimer: the runtime's timer itself, no cancel function made", () => {
  let made = 0;
  const counting: SetTimer = (fn, ms) => {
    made++;
    return systemTimer(fn, ms);
  };
  const armed = arm(
    systemTimer,
    () => {
      throw new Error("must not fire");
    },
    60_000,
  );
  expect(typeof armed).not.toBe("function");
  disarm(armed);
  // Any other SetTimer, even one wrapping systemTimer, is called.
  disarm(arm(counting, () => {}, 60_000));
  expect(made).toBe(1);
});
