/**
 * What wakes a proxy's event loop under the paced case (sse32p), read from the JS thread's
 * syscalls that `streams-prof.ts --strace` records (issue 19, sixteenth pass, "paced"):
 *
 *   STRACE_E="trace=epoll_pwait2,sendto,recvfrom,write,writev,read" \
 *     flock /tmp/bench.lock npx bun bench/overhead/streams-prof.ts --strace --out /tmp/sp
 *   npx bun bench/overhead/paced-wakes.ts /tmp/sp [gw bare | gw=1129 bare=1140]
 *
 * Per target: epoll waits woken by events and timed out, the events a wake, the sockets they
 * came on, and (when sendto/recvfrom were traced) each socket's kind by the first bytes it
 * carried (a client's request arrives on it: "client"; the proxy sends a request on it: "pod";
 * the rest: "other", e.g. a scrape or the log), so an extra wake-up can be named: a timer of the
 * proxy's own (timed out), a hand-off from another thread (the loop's eventfd), or a socket.
 * Also how many wakes after a client's request the pod call goes out (0: the same wake).
 * `id=N`: N streams in the trace (streams-prof's "## gw: N streams"), needed when recvfrom was
 * not traced (the requests are counted from the trace otherwise).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "/tmp/streams-prof";
const args = process.argv.length > 3 ? process.argv.slice(3) : ["gw", "bare"];

for (const arg of args) {
  const [id = arg, given] = arg.split("=");
  let text: string;
  try {
    text = readFileSync(join(dir, `${id}.strace`), "utf8");
  } catch {
    console.log(`${id}: no ${id}.strace in ${dir}`);
    continue;
  }
  let wakes = 0;
  let timedOut = 0;
  let events = 0;
  const perWake = new Map<number, number>();
  // Per wake: the fds read (recvfrom/read) and written (sendto/write/writev).
  const kind = new Map<number, "client" | "pod">();
  let wake = -1;
  let clientReqs = 0;
  let podCalls = 0;
  const podLag = new Map<number, number>();
  const pendingReq: number[] = []; // wake index of each client request not yet forwarded
  const readsBy = { client: 0, pod: 0, other: 0 };
  const wakesWith = { client: 0, pod: 0, other: 0 };
  let seen = { client: false, pod: false, other: false };
  const flushWake = () => {
    if (wake < 0) return;
    for (const k of ["client", "pod", "other"] as const) if (seen[k]) wakesWith[k]++;
    seen = { client: false, pod: false, other: false };
  };
  for (const line of text.split("\n")) {
    const m = /^(\w+)\((\d+)?(.*)\)\s+=\s+(-?\d+)/.exec(line);
    if (!m) continue;
    const [, call, fdText, rest, retText] = m;
    const ret = Number(retText);
    if (call!.startsWith("epoll")) {
      flushWake();
      wake++;
      if (ret === 0) timedOut++;
      else {
        wakes++;
        events += ret;
        perWake.set(Math.min(ret, 9), (perWake.get(Math.min(ret, 9)) ?? 0) + 1);
      }
      continue;
    }
    const fd = Number(fdText);
    const isPost = rest!.includes('"POST ');
    if ((call === "recvfrom" || call === "read") && ret > 0) {
      if (isPost) {
        kind.set(fd, "client");
        clientReqs++;
        pendingReq.push(wake);
      }
      const k = kind.get(fd) ?? "other";
      readsBy[k]++;
      seen[k] = true;
    } else if (call === "sendto" || call === "write" || call === "writev") {
      if (isPost) {
        kind.set(fd, "pod");
        podCalls++;
        const at = pendingReq.shift();
        if (at !== undefined)
          podLag.set(Math.min(wake - at, 3), (podLag.get(Math.min(wake - at, 3)) ?? 0) + 1);
      }
    }
  }
  flushWake();
  const streams = given ? Number(given) : clientReqs;
  const per = (n: number) => (n / Math.max(1, streams)).toFixed(3);
  console.log(`\n## ${id}: ${streams} streams (${clientReqs} requests seen in the trace)`);
  console.log(`  wakes by events ${per(wakes)} a stream, timed out ${per(timedOut)} a stream`);
  console.log(`  events ${per(events)} a stream, ${(events / Math.max(1, wakes)).toFixed(2)} a wake`);
  console.log(
    `  events a wake: ${[...perWake]
      .sort((a, b) => a[0] - b[0])
      .map(([n, c]) => `${n === 9 ? "9+" : n}:${c}`)
      .join(" ")}`,
  );
  console.log(
    `  reads a stream: client ${per(readsBy.client)}, pod ${per(readsBy.pod)}, other ${per(readsBy.other)}`,
  );
  console.log(
    `  wakes a stream with a read on: client ${per(wakesWith.client)}, pod ${per(wakesWith.pod)}, other ${per(wakesWith.other)}`,
  );
  if (podCalls)
    console.log(
      `  pod call sent, wakes after its request: ${[...podLag]
        .sort((a, b) => a[0] - b[0])
        .map(([n, c]) => `${n === 3 ? "3+" : n}:${c}`)
        .join(" ")}`,
    );
}
