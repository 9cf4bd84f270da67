/**
 * The request's side of a pod call on the Bun wire client, two trees side by side in one
 * process (issue 19, twelfth pass): the pod's headers as each tree's forward.ts makes them
 * (this tree: a PodHead where src/proxy/pod-head.ts exists; else bodyRequestHeaders + the
 * credential set) and the tree's wireFetch call with them, against a stub pool that takes the
 * call and drops it (the head's bytes built, the WireCall and its promise made; no socket).
 * ns per request, alternating rounds A B / B A; medians, the median paired difference and in
 * how many rounds the first tree was lower.
 *
 *   npx bun bench/overhead/reqhead-wire.ts [--small] [--auth] [--rounds 21] [--n 100000]
 * REQHEAD_HEAD (default this checkout) and REQHEAD_BASE (default /tmp/base12) name the trees.
 */
import { resolve } from "node:path";
import { LightAbortController } from "../../src/runtime/node-abort.ts";
import { clientHeaders } from "./bodies.ts";

const args = process.argv.slice(2);
const flag = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i < 0 ? d : Number(args[i + 1]);
};
const ROUNDS = flag("--rounds", 21);
const N = flag("--n", 100_000);
const settings = args.includes("--auth")
  ? { forwardAuthorization: false, credential: { header: "authorization", value: "Bearer pod-key" } }
  : { forwardAuthorization: false };
const ROOTS = {
  head: process.env["REQHEAD_HEAD"] ?? resolve(import.meta.dir, "../.."),
  base: process.env["REQHEAD_BASE"] ?? "/tmp/base12",
};

const client = clientHeaders(args.includes("--small"));
const body = new TextEncoder().encode(
  JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hello there" }], max_tokens: 16 }),
);
// The URL made per call, as forward.ts makes it (a concatenation, not a constant).
const ADDRESS = ["127.0.0.1:8000"];
const PATH = ["/v1/chat/completions"];
const ID = "0191b2c3-d4e5-7f00-8a9b-0123456789ab";

let sink = 0;
async function side(root: string): Promise<() => void> {
  const { wireFetch } = await import(resolve(root, "src/runtime/bun-wire.ts"));
  const { bodyRequestHeaders } = await import(resolve(root, "src/proxy/headers.ts"));
  let podHead: ((...a: unknown[]) => unknown) | undefined;
  try {
    ({ podHead } = await import(resolve(root, "src/proxy/pod-head.ts")));
  } catch {}
  const wire = wireFetch();
  // The stub pool: takes the call (its bytes made) and drops it.
  wire.pools.set("127.0.0.1:8000", {
    origin: "127.0.0.1:8000",
    dispatch(call: { bytes: Uint8Array }) {
      sink += call.bytes.byteLength;
    },
  });
  const headersOf = () => {
    const p = podHead?.(client, "chat", ID, settings);
    if (p) return p;
    const h: Headers = bodyRequestHeaders(client, "chat", ID, settings);
    const c = (settings as { credential?: { header: string; value: string } }).credential;
    if (c?.value) h.set(c.header, c.value);
    return h;
  };
  return () => {
    for (let i = 0; i < N; i++) {
      const controller = new LightAbortController();
      wire(`http://${ADDRESS[i & 0]}${PATH[i & 0]}`, {
        method: "POST",
        headers: headersOf(),
        body,
        signal: controller.signal,
      });
    }
  };
}

const runs = { head: await side(ROOTS.head), base: await side(ROOTS.base) };
const time = (fn: () => void) => {
  const t = performance.now();
  fn();
  return ((performance.now() - t) * 1e6) / N;
};
runs.head();
runs.base();
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    a.push(time(runs.head));
    b.push(time(runs.base));
  } else {
    b.push(time(runs.base));
    a.push(time(runs.head));
  }
  Bun.gc(true);
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const diffs = a.map((x, i) => x - b[i]!);
console.log(
  `request side, ${ROUNDS} rounds of ${N}: head ${med(a).toFixed(0)} ns, base ${med(b).toFixed(0)} ns, ` +
    `median paired diff ${med(diffs).toFixed(0)} ns (head lower in ${diffs.filter((d) => d < 0).length}/${ROUNDS}); sink ${sink % 7}`,
);
