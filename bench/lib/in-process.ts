/**
 * Driving a gateway app in process (no HTTP): the in-process benchmarks (hono-chain,
 * node-path-chain, body-micro) share these so each measures the same way.
 */

/** Anything with a web-standard `fetch`: a Hono app, the gateway's `fetch`. */
export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/** A chat-completions POST of `body` (a JSON string), as a client sends it. */
export function chatRequest(body: string): Request {
  return new Request("http://gw/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(body.length) },
    body,
  });
}

/**
 * `n` requests made by `send`, `concurrency` at a time; the process CPU µs each cost
 * (utime + stime over the batch ÷ n), or the wall-clock µs each with `wall`.
 */
export async function perRequest(
  send: () => Promise<void>,
  n: number,
  concurrency: number,
  wall = false,
): Promise<number> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const one = async (k: number) => {
    for (let i = 0; i < k; i++) await send();
  };
  await Promise.all(Array.from({ length: concurrency }, () => one(Math.ceil(n / concurrency))));
  if (wall) return ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

/** One chat request of `body` through `app`, answered 200 and read whole (throws otherwise). */
export async function postChat(app: FetchApp, body: string): Promise<void> {
  const res = await app.fetch(chatRequest(body));
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/**
 * Each app once to warm up, then `rounds` rounds of every app, every other round in reverse
 * order (what one leaves to the collector is not always paid by the same next one).
 */
export async function alternatingRounds<A>(
  apps: Record<string, A>,
  rounds: number,
  run: (app: A) => Promise<number>,
): Promise<Record<string, number[]>> {
  const results: Record<string, number[]> = Object.fromEntries(Object.keys(apps).map((k) => [k, []]));
  for (const app of Object.values(apps)) await run(app);
  for (let round = 0; round < rounds; round++) {
    const order = Object.entries(apps);
    if (round % 2 === 1) order.reverse();
    for (const [name, app] of order) results[name]!.push(await run(app));
  }
  return results;
}
