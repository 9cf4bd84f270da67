import { expect, test } from "bun:test";
import { Closing } from "../../src/lifecycle.ts";

/** `fn` called once when `closing` closes, and the function that ends the subscription (watch + unwatch). */
function onClose(closing: Closing, fn: () => void): () => void {
  const token = closing.watch(fn);
  return () => closing.unwatch(token);
}

/**
 * Issue 19, sixth pass: the request path watches shutdown by a number (`watch` / `unwatch`),
 * a controller aborted directly, instead of an abort closure and an unsubscribe closure per
 * request. Same contract as `onClose`: told once, never after leaving, at once when late.
 */
test("a watched controller is aborted with 'shutting down' once; one that left is not", () => {
  const closing = new Closing();
  const stays = new AbortController();
  const leaves = new AbortController();
  closing.watch(stays);
  const token = closing.watch(leaves);
  closing.unwatch(token);
  closing.close();
  closing.close();
  expect(stays.signal.aborted).toBe(true);
  expect((stays.signal.reason as Error).message).toBe("shutting down");
  expect(leaves.signal.aborted).toBe(false);
  const late = new AbortController();
  const lateToken = closing.watch(late);
  expect(late.signal.aborted).toBe(true);
  closing.unwatch(lateToken); // a no-op, not a throw
});

test("a second unwatch, after the slot went to another, leaves that one watching", () => {
  const closing = new Closing();
  const calls: string[] = [];
  const a = closing.watch(() => calls.push("a"));
  closing.unwatch(a);
  const b = closing.watch(() => calls.push("b")); // a's slot, a newer generation
  expect(b).not.toBe(a);
  closing.unwatch(a);
  const leaveC = onClose(closing, () => calls.push("c"));
  leaveC();
  leaveC();
  // Churn through the same slots: tokens of those that left never end a later one.
  const stale: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = closing.watch(() => calls.push(`gone-${i}`));
    if (i % 100 !== 0) {
      closing.unwatch(t);
      stale.push(t);
    }
  }
  for (const t of stale) closing.unwatch(t);
  closing.close();
  expect(calls.sort()).toEqual(["b", ...Array.from({ length: 10 }, (_, i) => `gone-${i * 100}`)].sort());
});

test("the same subscriber watching twice is told once", () => {
  const closing = new Closing();
  let n = 0;
  const fn = () => n++;
  closing.watch(fn);
  onClose(closing, fn);
  const controller = { aborts: 0, abort: () => controller.aborts++ };
  closing.watch(controller);
  closing.watch(controller);
  closing.close();
  expect(n).toBe(1);
  expect(controller.aborts).toBe(1);
});
