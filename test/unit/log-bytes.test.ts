import { expect, test } from "bun:test";
import { BATCH_DELAY_MS, batchedConsole } from "../../src/log.ts";
import { type Batched, batchedBytes, stdoutBytes } from "../../src/log-bytes.ts";
import { FakeTime } from "../helpers/fake-time.ts";

const decoder = new TextDecoder();

/** A byte writer that keeps what it is given; `short` makes it write at most that many bytes a call. */
function sink(short = Number.POSITIVE_INFINITY) {
  const chunks: Uint8Array[] = [];
  let calls = 0;
  const write = (bytes: Uint8Array, offset: number, length: number) => {
    calls++;
    const n = Math.min(length, short);
    chunks.push(bytes.slice(offset, offset + n));
    return n;
  };
  return {
    write,
    get calls() {
      return calls;
    },
    text: () => decoder.decode(Buffer.concat(chunks)),
  };
}

/** What console.log would have printed for each text: the text and a newline. */
function consoleText() {
  const printed: string[] = [];
  return { print: (t: string) => printed.push(t), text: () => printed.map((t) => `${t}\n`).join("") };
}

function setup(short?: number) {
  const time = new FakeTime();
  const out = sink(short);
  const fallback = consoleText();
  const lines = batchedBytes(
    out.write,
    batchedConsole(time.setTimer, fallback.print),
    BATCH_DELAY_MS,
    time.setTimer,
  );
  return { time, out, fallback, lines };
}

const LINES = ['{"msg":"a"}', '{"msg":"é 中文 🙂 \\u0000"}', "", '{"msg":"x\\"y"}'];

test("the bytes written are what console.log of the batch wrote, in one write per batch", () => {
  const { time, out, lines } = setup();
  const before = consoleText();
  const old: Batched = batchedConsole(time.setTimer, before.print);
  for (const l of LINES) {
    lines(l);
    old(l);
  }
  expect(out.calls).toBe(0);
  time.advance(BATCH_DELAY_MS);
  expect(out.calls).toBe(1);
  expect(out.text()).toBe(before.text());
});

test("a warning goes out at once, after what is pending", () => {
  const { out, lines } = setup();
  lines("one");
  lines.now("warned");
  expect(out.text()).toBe("one\nwarned\n");
});

test("64 KiB pending are written without waiting for the timer; a line larger than the buffer too", () => {
  const { time, out, lines } = setup();
  const big = "x".repeat(1000);
  for (let i = 0; i < 70; i++) lines(big);
  expect(out.calls).toBe(1);
  const huge = "é".repeat(200_000);
  lines(huge);
  lines("after");
  time.advance(BATCH_DELAY_MS);
  expect(out.text()).toBe(`${`${big}\n`.repeat(70)}${huge}\nafter\n`);
});

test("short writes are continued until the batch is out", () => {
  const { time, out, lines } = setup(7);
  for (const l of LINES) lines(l);
  time.advance(BATCH_DELAY_MS);
  expect(out.text()).toBe(LINES.map((l) => `${l}\n`).join(""));
});

test("a writer that fails hands the rest, and every later line, to console.log: nothing is lost", () => {
  const time = new FakeTime();
  const fallback = consoleText();
  let n = 0;
  const written: Uint8Array[] = [];
  const write = (bytes: Uint8Array, offset: number, _length: number) => {
    if (n++ > 0) throw Object.assign(new Error("EAGAIN"), { code: "EAGAIN" });
    written.push(bytes.slice(offset, offset + 5));
    return 5;
  };
  const lines = batchedBytes(
    write,
    batchedConsole(time.setTimer, fallback.print),
    BATCH_DELAY_MS,
    time.setTimer,
  );
  lines("first line");
  lines("second");
  time.advance(BATCH_DELAY_MS);
  lines("third");
  lines.now("warned");
  lines("fourth");
  lines.flush();
  expect(decoder.decode(written[0]) + fallback.text()).toBe("first line\nsecond\nthird\nwarned\nfourth\n");
});

test("flush writes what is pending at once", () => {
  const { out, lines } = setup();
  lines("last");
  lines.flush();
  expect(out.text()).toBe("last\n");
});

test("Bun and Node have a synchronous stdout byte writer", () => {
  expect(typeof stdoutBytes()).toBe("function");
});

test("not on Cloudflare Workers, whose node:fs has an fd 1 of its own: console.log there", () => {
  Object.defineProperty(globalThis.navigator, "userAgent", {
    value: "Cloudflare-Workers",
    configurable: true,
  });
  try {
    expect(stdoutBytes()).toBeUndefined();
  } finally {
    delete (globalThis.navigator as { userAgent?: string }).userAgent;
  }
  expect(typeof stdoutBytes()).toBe("function");
});
