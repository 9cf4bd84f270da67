/**
 * How many clock reads (performance.now, Date.now), header lookups (Headers.get / has) and
 * timers (setTimeout) one small JSON request makes in process (issue 19, sixteenth pass,
 * "small"): the whole gateway on the fetch seam, counted by wrapping the globals after warm-up.
 *
 *   bun bench/overhead/small-counts.ts [--root /tmp/base16]
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { gatewayAt, postChat } from "../lib/in-process.ts";

const { values } = parseArgs({ options: { root: { type: "string", default: "" } } });
const root = values.root || resolve(import.meta.dir, "../..");
const app = await gatewayAt(root);
const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hello there" }] });
for (let i = 0; i < 2000; i++) await postChat(app, body);

const counts = new Map<string, number>();
const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
function wrap<T extends object>(owner: T, key: string, label: string): void {
  const o = owner as Record<string, (...a: unknown[]) => unknown>;
  const f = o[key]!;
  o[key] = function (this: unknown, ...a: unknown[]) {
    bump(label);
    return f.apply(this, a);
  };
}
wrap(performance, "now", "performance.now");
wrap(Date, "now", "Date.now");
wrap(Headers.prototype, "get", "Headers.get");
wrap(Headers.prototype, "has", "Headers.has");
wrap(Headers.prototype, "set", "Headers.set");
wrap(globalThis, "setTimeout", "setTimeout");
const N = 1000;
for (let i = 0; i < N; i++) await postChat(app, body);
for (const [k, v] of counts) console.log(`${k}: ${(v / N).toFixed(2)} a request`);
