/**
 * Deno entry: `npm run start:deno`, i.e. `deno run --unstable-no-legacy-abort --allow-net
 * --allow-read --allow-env src/runtime/deno.ts`. Deno resolves the npm dependencies from
 * node_modules and provides the `node:` modules and `process` that the shared entry uses
 * (CLI, config file, watch, signals). `--unstable-no-legacy-abort`: without it Deno aborts
 * `request.signal` when a response completes, not only when the client leaves.
 */
import { exitOnSignals, main } from "./main.ts";
import { denoApi, serveDeno } from "./serve-deno.ts";

const deno = denoApi();
const started = await main({
  serve: serveDeno,
  runtime: `deno ${deno.version.deno}`,
  argv: deno.args,
  env: deno.env.toObject(),
});
if (started) exitOnSignals(started);
