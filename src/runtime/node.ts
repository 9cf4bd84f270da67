/** Node entry: `npm run start:node`. */
import { exitOnSignals, main } from "./main.ts";
import { serveNode } from "./serve-node.ts";

const started = await main({
  serve: serveNode,
  runtime: `node ${process.version}`,
  argv: process.argv.slice(2),
  env: process.env,
});
if (started) exitOnSignals(started);
