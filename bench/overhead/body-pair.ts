/**
 * The 30 KiB chat request (the overhead benchmark's body30k, the same prompt every time)
 * through two checkouts' gateways in process, side by side: this tree ("head") against
 * BENCH_GATEWAY_ROOT ("base"), alternating rounds, CPU µs a request, the median of the
 * paired differences and in how many rounds head was lower (twelfth pass, "body").
 *
 *   BENCH_GATEWAY_ROOT=/tmp/base12 npx bun bench/overhead/body-pair.ts
 *
 * BENCH_ROUNDS (default 15), BENCH_N requests a round (default 10000), BENCH_CONCURRENCY
 * (32), BENCH_ENDPOINTS (4, as the overhead benchmark's pods), BENCH_SMALL=1: the small
 * request instead.
 */
import { resolve } from "node:path";
import { alternatingRounds, gatewayAt, pairedLine, perRequest, postChat } from "../lib/in-process.ts";
import { bigBody, SMALL } from "./bodies.ts";

const baseRoot = process.env["BENCH_GATEWAY_ROOT"];
if (!baseRoot) throw new Error("BENCH_GATEWAY_ROOT=<other checkout> is required");
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 15);
const n = Number(process.env["BENCH_N"] ?? 10_000);
const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 32);
const endpoints = Number(process.env["BENCH_ENDPOINTS"] ?? 4);
const payload = JSON.stringify(process.env["BENCH_SMALL"] === "1" ? SMALL : bigBody(30 * 1024));

const apps = {
  head: await gatewayAt(resolve(import.meta.dirname ?? ".", "../.."), { endpoints }),
  base: await gatewayAt(resolve(baseRoot), { endpoints }),
};
const results = await alternatingRounds(apps, rounds, (app) =>
  perRequest(() => postChat(app, payload), n, concurrency),
);
const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.version}`;
console.log(pairedLine(`${runtime}, ${payload.length} B body, ${endpoints} endpoints`, results, n));
