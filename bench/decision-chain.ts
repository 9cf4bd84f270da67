/**
 * Whole small requests in process, one checkout's gateway against another's (issue 19,
 * twelfth pass: what the decision's changes are worth per request): `gatewayAt` (4 pods,
 * default profile, metrics and the log line on; the fetch seam answers at once), the small
 * chat body, CPU µs a request, alternating rounds, paired differences.
 *
 *   bun bench/decision-chain.ts <head checkout> <base checkout> [rounds=41] [n=10000]
 */

import { alternatingRounds, gatewayAt, pairedLine, perRequest, postChat } from "./lib/in-process.ts";
import { SMALL } from "./overhead/bodies.ts";

const [headRoot, baseRoot, rounds = "41", n = "10000"] = process.argv.slice(2);
if (!headRoot || !baseRoot) throw new Error("usage: bun bench/decision-chain.ts <head> <base> [rounds] [n]");
const body = JSON.stringify(SMALL);
const apps = { head: await gatewayAt(headRoot), base: await gatewayAt(baseRoot) };
const results = await alternatingRounds(apps, Number(rounds), (app) =>
  perRequest(() => postChat(app, body), Number(n), 32),
);
console.log(pairedLine("small JSON request", results, Number(n)));
process.exit(0);
