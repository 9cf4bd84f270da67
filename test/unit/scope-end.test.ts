import { describe, expect, test } from "bun:test";
import type { Logger } from "../../src/log.ts";
import type { RequestRecord } from "../../src/request-line.ts";
import { Exchange } from "../../src/stages/exchange.ts";
import { scope } from "../../src/stages/scope.ts";

/**
 * Issue 19, fourteenth pass: the request's scope writes its line (and metrics) itself, after
 * every resource it holds is released, where a resource held first did it before: the same
 * order, once, whatever a release throws, with the scope's duration and outcome.
 */
function setup() {
  let now = 100;
  const events: string[] = [];
  const lines: RequestRecord[] = [];
  const logger = {
    request: (r: RequestRecord) => {
      events.push("line");
      lines.push(r);
    },
  } as unknown as Logger;
  const stage = scope({
    clock: { now: () => now },
    lifecycle: { shuttingDown: false },
    metrics: { series: () => ({}) as never },
    logger,
  });
  const x = new Exchange(new Request("http://gw/v1/chat/completions", { method: "POST" }), "req-1");
  stage.open(x);
  return {
    stage,
    x,
    events,
    lines,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("the request scope's end", () => {
  test("the line comes after every held resource, once, with the duration and outcome", () => {
    const t = setup();
    t.x.scope.hold({ release: (o) => void t.events.push(`slot ${o}`) });
    t.x.scope.hold({ release: (o) => void t.events.push(`lifecycle ${o}`) });
    t.advance(12.345);
    t.stage.close(t.x, new Response(null, { status: 200 }));
    t.x.scope.end("aborted");
    expect(t.events).toEqual(["lifecycle success", "slot success", "line"]);
    expect(t.lines).toHaveLength(1);
    expect(t.lines[0]!.durationMs).toBe(12.35);
    expect(t.lines[0]!.outcome).toBe("success");
    expect(t.lines[0]!.status).toBe(200);
    expect(t.lines[0]!.requestId).toBe("req-1");
  });

  test("a release that throws does not keep the line from being written", () => {
    const t = setup();
    const error = console.error;
    console.error = () => {};
    try {
      t.x.scope.hold({
        release: () => {
          throw new Error("boom");
        },
      });
      t.stage.close(t.x, new Response(null, { status: 503 }));
    } finally {
      console.error = error;
    }
    expect(t.events).toEqual(["line"]);
    expect(t.lines[0]!.outcome).toBe("error");
  });

  test("a live stream's scope is written when the stream ends it, not at close", () => {
    const t = setup();
    t.x.scope.streaming = true;
    t.stage.close(t.x, new Response(null, { status: 200 }));
    expect(t.lines).toHaveLength(0);
    t.advance(5);
    t.x.scope.end("aborted");
    expect(t.lines).toHaveLength(1);
    expect(t.lines[0]!.outcome).toBe("aborted");
    // held after the end: released at once, no second line
    const released: string[] = [];
    t.x.scope.hold({ release: (o) => void released.push(o) });
    expect(released).toEqual(["aborted"]);
    expect(t.lines).toHaveLength(1);
  });
});
