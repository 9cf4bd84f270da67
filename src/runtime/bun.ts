/** Bun entry: `npm start` / `bun run src/runtime/bun.ts`. */
import { exitOnSignals, main } from "./main.ts";
import { serveBun } from "./serve-bun.ts";

const started = await main({
  serve: serveBun,
  runtime: `bun ${Bun.version}`,
  argv: process.argv.slice(2),
  env: process.env,
});
if (started) exitOnSignals(started);
