/**
 * The wrk scripts the overhead benchmarks load with (run.ts, wire-go.ts): POST a JSON body
 * and print one `WRKJSON {...}` line at the end with the run's counts and latencies.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** What a script's `WRKJSON` line holds (latencies in µs, as wrk gives them). */
export interface WrkJson {
  requests: number;
  durationUs: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

/** Errors of every kind wrk counts. */
export const wrkErrors = (w: WrkJson) => w.connect + w.read + w.write + w.status + w.timeout;

/**
 * Writes `<dir>/<name>.json` and `<dir>/<name>.lua` and returns the script's path. With
 * `vary`, every request's first message starts with a token of its own (the run's seed and a
 * counter), so no two prompts share a block: the prefix index records a new prompt each
 * time, as with traffic that shares nothing.
 */
export function wrkScript(
  dir: string,
  name: string,
  body: object,
  headers: Record<string, string> = {},
  vary = false,
): string {
  const bodyFile = join(dir, `${name}.json`);
  writeFileSync(bodyFile, JSON.stringify(body));
  const script = join(dir, `${name}.lua`);
  writeFileSync(
    script,
    [
      `local f = assert(io.open("${bodyFile}", "rb"))`,
      "wrk.body = f:read('*a')",
      "f:close()",
      'wrk.method = "POST"',
      'wrk.headers["Content-Type"] = "application/json"',
      ...Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`),
      ...(vary
        ? [
            `local head, tail = wrk.body:match('^(.-"content":")(.*)$')`,
            "local seed, n = os.time() % 100000, 0",
            "request = function()",
            "  n = n + 1",
            '  return wrk.format(nil, nil, nil, head .. seed .. "-" .. n .. " " .. tail)',
            "end",
          ]
        : []),
      "done = function(summary, latency, requests)",
      "  local e = summary.errors",
      '  io.write(string.format(\'\\nWRKJSON {"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}\\n\',',
      "    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,",
      "    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))",
      "end",
      "",
    ].join("\n"),
  );
  return script;
}
