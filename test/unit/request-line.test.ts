import { describe, expect, test } from "bun:test";
import { LineBuffer } from "../../src/line-buffer.ts";
import { BATCH_DELAY_MS, batchedConsole, createLogger, MAX_LOG_FIELD, truncate } from "../../src/log.ts";
import { batchedBytes } from "../../src/log-bytes.ts";
import { RecentRequests } from "../../src/observability/recent.ts";
import type { RequestRecord } from "../../src/request-line.ts";
import type { RequestLog } from "../../src/scope.ts";

/**
 * The request line as the gateway wrote it before the template: the scope's object literal
 * (its fields, a spread of the notes, tenantKey, stream), every string cut to MAX_LOG_FIELD
 * (one level into plain objects), behind time/level/msg, through JSON.stringify.
 */
function todaysLine(time: string, r: RequestRecord): string {
  const fields: Record<string, unknown> = {
    at: r.at,
    requestId: r.requestId,
    model: r.model,
    kind: r.kind,
    pool: r.pool,
    targetModel: r.targetModel,
    rewrite: r.rewrite,
    fairnessId: r.fairnessId,
    status: r.status,
    outcome: r.outcome,
    droppedReason: r.droppedReason,
    durationMs: r.durationMs,
    ...r.log,
    tenantKey: r.tenantKey,
    stream: r.stream,
  };
  const cutOne = (v: unknown) =>
    typeof v === "string" && v.length > MAX_LOG_FIELD ? truncate(v, MAX_LOG_FIELD) : v;
  const line: Record<string, unknown> = { time, level: "info", msg: "request" };
  for (const k in fields) {
    const v = fields[k];
    if (v && Object.getPrototypeOf(v) === Object.prototype) {
      const inner: Record<string, unknown> = {};
      for (const [ik, iv] of Object.entries(v)) inner[ik] = cutOne(iv);
      line[k] = inner;
    } else line[k] = cutOne(v);
  }
  return JSON.stringify(line);
}

function record(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    at: 1_796_472_957_411,
    requestId: "0b8a3c1e-5d4f-4a7b-9c2e-1f3a5b7c9d0e",
    model: "m",
    kind: "chat",
    pool: "default",
    targetModel: "m",
    rewrite: undefined,
    fairnessId: "default-flow",
    status: 200,
    outcome: "success",
    droppedReason: undefined,
    durationMs: 0.42,
    log: { priority: 0, queueMs: 0.01, endpoint: "pod-1", promptTokens: 9, completionTokens: 4 },
    tenantKey: undefined,
    stream: false,
    ...over,
  };
}

/** The line the logger's template writes, and today's line with the same time. */
function both(r: RequestRecord): [string, string] {
  const lines: string[] = [];
  createLogger("info", (l) => lines.push(l)).request(r);
  const line = lines[0]!;
  const time = (JSON.parse(line) as { time: string }).time;
  return [line, todaysLine(time, r)];
}

const TRICKY = [
  "",
  'say "hi"',
  "back\\slash\\",
  "ctl \u0000\u0001\b\t\n\f\r\u001f end",
  "del \u007f, nbsp \u00a0, line sep \u2028 \u2029",
  "unicode: é ß 中文 🙂",
  "lone high \ud800 and low \udc00",
  "</script><!--",
  "m".repeat(MAX_LOG_FIELD + 5),
  `${"é".repeat(MAX_LOG_FIELD)}"`,
];
const NUMBERS = [
  0,
  -0,
  1,
  200,
  0.42,
  0.1 + 0.2,
  1e21,
  1e-7,
  -3.5,
  123456789.125,
  Number.NaN,
  Infinity,
  -Infinity,
];

describe("the request line from its template is today's line, byte for byte", () => {
  test("the usual request", () => {
    const [line, today] = both(record());
    expect(line).toBe(today);
  });

  test("client strings that need escaping, in every string field and note", () => {
    for (const s of TRICKY) {
      const r = record({
        requestId: s,
        model: s,
        kind: s,
        pool: s,
        targetModel: s,
        rewrite: s,
        fairnessId: s,
        outcome: s,
        droppedReason: s,
        tenantKey: s,
        log: { endpoint: s, error: s, [s || "empty"]: s },
      });
      const [line, today] = both(r);
      expect(line).toBe(today);
      expect(JSON.parse(line).model).toBe(JSON.parse(today).model);
    }
  });

  test("numbers with decimals, huge and tiny, negative zero, NaN and the infinities", () => {
    for (const n of NUMBERS) {
      const [line, today] = both(record({ at: n, status: n, durationMs: n, log: { queueMs: n, ttftMs: n } }));
      expect(line).toBe(today);
    }
  });

  test("undefined fields are left out, wherever they are", () => {
    const r = record({
      model: undefined,
      kind: undefined,
      pool: undefined,
      targetModel: undefined,
      fairnessId: undefined,
      stream: undefined,
      log: { priority: undefined, endpoint: "pod-1", ttftMs: undefined, error: "broke" },
    });
    const [line, today] = both(r);
    expect(line).toBe(today);
    expect(line).not.toContain("priority");
  });

  test("notes keep the order they were written in, extra notes included (hosted backends)", () => {
    const log = { priority: 0, queueMs: 2, endpoint: "backend/b", error: "x", ttftMs: 1.5 } as Record<
      string,
      unknown
    >;
    Object.assign(log, { backend: "b", spilled_to: "b", spill_reason: "shed" });
    const [line, today] = both(record({ log, tenantKey: "team-a", stream: true }));
    expect(line).toBe(today);
    expect(Object.keys(JSON.parse(line)).slice(-5)).toEqual([
      "backend",
      "spilled_to",
      "spill_reason",
      "tenantKey",
      "stream",
    ]);
  });

  test("notes of other types: null, booleans, objects (cut one level in), functions", () => {
    const log = {
      none: null,
      flag: true,
      nested: { a: "n".repeat(MAX_LOG_FIELD + 1), b: 1, c: undefined },
      list: [1, "two"],
      fn: () => 1,
    } as Record<string, unknown>;
    const [line, today] = both(record({ log }));
    expect(line).toBe(today);
  });

  test("a note named like a fixed field, or an integer-like one, keeps today's order (generic path)", () => {
    for (const log of [{ model: "other", endpoint: "p" }, { "7": "seven", endpoint: "p" }, { time: "t" }]) {
      const [line, today] = both(record({ log: log as Record<string, unknown> }));
      expect(line).toBe(today);
    }
  });

  test("random records: strings from an awkward alphabet, random numbers, random undefined", () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ['"', "\\", "\u0000", "\n", "\u001f", "a", "é", "\ud83d", "\ude42", "\u2028", "/", " "];
    const str = () =>
      rnd() < 0.2
        ? undefined
        : Array.from(
            { length: Math.floor(rnd() * 12) },
            () => alphabet[Math.floor(rnd() * alphabet.length)],
          ).join("");
    const num = () => (rnd() < 0.5 ? Math.round(rnd() * 1e6) / 100 : rnd() * 1e-3);
    for (let i = 0; i < 500; i++) {
      const r = record({
        model: str(),
        fairnessId: str(),
        rewrite: str(),
        durationMs: num(),
        log: { queueMs: num(), endpoint: str(), error: str() },
        tenantKey: str(),
      });
      const [line, today] = both(r);
      expect(line).toBe(today);
    }
  });

  test("note names: escaped ones, and more names than the line remembers (256)", () => {
    const names = ['q"uote', "back\\slash", "tab\t", "é", "\u2028", "", " ", "-1", "1x", "x1"];
    for (let i = 0; i < 300; i++) names.push(`note${i}`);
    for (let round = 0; round < 2; round++)
      for (const name of names) {
        const [line, today] = both(
          record({ log: { endpoint: "p", [name]: round, queueMs: 0.5 } as RequestLog }),
        );
        expect(line).toBe(today);
      }
  });

  test("LineBuffer writes strings as JSON.stringify does, in UTF-8", () => {
    for (const s of TRICKY) {
      const b = new LineBuffer(4);
      b.ascii("[");
      b.string(s);
      b.ascii("]");
      expect(b.text()).toBe(`[${JSON.stringify(s)}]`);
    }
  });

  test("written as bytes into the stdout batch: the same line, then a newline", () => {
    const chunks: Uint8Array[] = [];
    const write = (bytes: Uint8Array, offset: number, length: number) => {
      chunks.push(bytes.slice(offset, offset + length));
      return length;
    };
    const lines = batchedBytes(write, batchedConsole(), BATCH_DELAY_MS, () => () => {});
    const logger = createLogger("info", lines);
    const records = [
      record(),
      record({ model: TRICKY[3], log: { error: TRICKY[6], endpoint: "p" } }),
      record({ log: { model: "collides" } as Record<string, unknown> }),
    ];
    for (const r of records) logger.request(r);
    logger.flush?.();
    const text = new TextDecoder().decode(Buffer.concat(chunks));
    const got = text.split("\n");
    expect(got.length).toBe(4);
    expect(got[3]).toBe("");
    records.forEach((r, i) => {
      const time = (JSON.parse(got[i]!) as { time: string }).time;
      expect(got[i]).toBe(todaysLine(time, r));
    });
  });

  test("below info, no line", () => {
    const lines: string[] = [];
    createLogger("warn", (l) => lines.push(l)).request(record());
    expect(lines).toEqual([]);
  });
});

describe("the dashboard keeps records and builds summaries when read", () => {
  test("a record reads back as the summary the gateway built per request before", () => {
    const ring = new RecentRequests(4);
    const r = record({ log: { priority: 0, endpoint: "pod-1", promptTokens: 9 } });
    ring.record(r);
    expect(ring.since(0).items).toEqual([
      {
        at: r.at,
        requestId: r.requestId,
        model: "m",
        kind: "chat",
        pool: "default",
        targetModel: "m",
        rewrite: undefined,
        fairnessId: "default-flow",
        status: 200,
        outcome: "success",
        droppedReason: undefined,
        durationMs: 0.42,
        priority: 0,
        endpoint: "pod-1",
        promptTokens: 9,
      },
    ]);
  });

  test("long strings in records and their notes are cut; the scope's notes object is not changed", () => {
    const ring = new RecentRequests(4);
    const long = "q".repeat(10_000);
    const log = { endpoint: "pod-1", error: long };
    ring.record(record({ model: long, fairnessId: long, log }));
    const [item] = ring.since(0).items;
    expect(item!.model!.length).toBeLessThanOrEqual(257);
    expect(item!.fairnessId!.length).toBeLessThanOrEqual(257);
    expect((item as unknown as { error: string }).error.length).toBeLessThanOrEqual(257);
    expect(log.error.length).toBe(10_000);
  });
});

test("LineBuffer writes numbers as JSON.stringify does: integers digit by digit, the rest as JS prints them", () => {
  const values = [
    0,
    -0,
    1,
    9,
    10,
    99,
    100,
    200,
    499,
    1_796_472_957_411,
    2 ** 31,
    2 ** 32 + 1,
    Number.MAX_SAFE_INTEGER,
  ];
  for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 10 ** (i % 16)));
  values.push(2 ** 53, 2 ** 60, 1e21, 0.5, 12.34, -1, -12.5, 1e-7, Number.NaN, Infinity);
  for (const v of values) {
    const b = new LineBuffer(1);
    b.number(v);
    expect(b.text()).toBe(JSON.stringify(v));
  }
});
