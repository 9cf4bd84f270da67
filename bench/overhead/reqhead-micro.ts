/**
 * The pod request's head on Bun, in a loop (issue 19, twelfth pass): the Headers built as
 * forward.ts built it (bodyRequestHeaders + the credential set) and walked with `forEach` into
 * the head's lines as the wire client does, against `podHead` (src/proxy/pod-head.ts) writing
 * the same lines from the client's Headers. Alternating rounds; ns per request, median, and
 * the count of rounds the one-pass head is lower.
 *
 *   npx bun bench/overhead/reqhead-micro.ts [--auth] [--small] [--rounds 15] [--n 200000]
 * --small: the client headers the e2e bench's wrk sends (host, content-type, content-length)
 * instead of six a typical SDK sends.
 */
import { podHead, podHeaders } from "../../src/proxy/pod-head.ts";
import { clientHeaders } from "./bodies.ts";

const args = process.argv.slice(2);
const flag = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i < 0 ? d : Number(args[i + 1]);
};
const ROUNDS = flag("--rounds", 15);
const N = flag("--n", 200_000);
const opts = args.includes("--auth")
  ? { forwardAuthorization: false, credential: { header: "authorization", value: "Bearer pod-key" } }
  : { forwardAuthorization: false };

// A small JSON request as a typical client sends it (what Bun.serve's request.headers holds).
const client = clientHeaders(args.includes("--small"));

let sink = 0;
function old(): void {
  for (let i = 0; i < N; i++) {
    const h = podHeaders(client, "chat", "0191b2c3-d4e5-7f00-8a9b-0123456789ab", opts);
    let head = "POST /v1/chat/completions HTTP/1.1\r\n";
    h.forEach((value, name) => {
      head += `${name}: ${value}\r\n`;
    });
    sink += head.length;
  }
}
function one(): void {
  for (let i = 0; i < N; i++) {
    const p = podHead(client, "chat", "0191b2c3-d4e5-7f00-8a9b-0123456789ab", opts)!;
    const head = `POST /v1/chat/completions HTTP/1.1\r\n${p.lines}`;
    sink += head.length;
  }
}
function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return ((performance.now() - t) * 1e6) / N;
}
old();
one();
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    a.push(time(old));
    b.push(time(one));
  } else {
    b.push(time(one));
    a.push(time(old));
  }
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const lower = a.filter((x, i) => b[i]! < x).length;
console.log(
  `Headers + forEach ${med(a).toFixed(0)} ns, one-pass head ${med(b).toFixed(0)} ns a request (median of ${ROUNDS}); lower in ${lower} of ${ROUNDS}; sink ${sink % 7}`,
);
