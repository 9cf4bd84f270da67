import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Under Node, because Bun answers `import "undici"` with its own module.
test("the Node entry's undici fetch: headers and body out, status, headers and a pull-based body back, cancel reaches the pod", () => {
  const script = fileURLToPath(new URL("./undici-fetch-check.mts", import.meta.url));
  const run = spawnSync("node", ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000 });
  expect(run.stderr).toBe("");
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  expect(out.echo).toEqual({
    status: 200,
    json: { body: '{"a":1}', ct: "application/json", x: "kept" },
    cookies: ["a=1", "b=2"],
  });
  expect(out.chunked).toEqual({ status: 200, json: { a: 1 } });
  expect(out.empty).toEqual({ status: 204, body: null });
  expect(out.stream).toEqual({ status: 200, type: "text/event-stream", first: "data: 0\n\n" });
  expect(out.cancelReachedServer).toBe(true);
  // Read to the end, every byte in order; a pod that breaks off or an abort errors the stream.
  expect(out.eventsWhole).toBe(true);
  expect(out.broken).toMatch(/^data: 0\n\n<error: /);
  expect(out.abortedMidStream).toBe("AbortError");
  // An abort before the answer rejects the call with the signal's reason.
  expect(out.abortedBeforeAnswer).toBe("gave up waiting");
  // The chunks attempt takes instead of a web stream: the same bytes, aborted by the signal.
  expect(out.chunksWhole).toBe(true);
  expect(out.chunksAborted).toBe("client left");
  expect(out.sharedSignalListeners).toBeLessThanOrEqual(1); // none left behind per call
  // attempt's light controller (node-abort.ts), offered through decodingWhenEncoded too: the same aborts.
  expect(out.offered).toEqual({ light: true, throughDecoding: true });
  expect(out.light).toEqual({ beforeAnswer: "gave up waiting", midStream: "client left", callLeft: true });
  expect(out.refused).toContain("ECONNREFUSED");
}, 40_000);
