import { scriptLauncher } from "./launch.ts";
import { describeRuntime } from "./suite.ts";

// `npm run start:deno`: the deno binary from the `deno` npm package, Deno.serve.
describeRuntime("Deno", scriptLauncher("start:deno", 30_000), {
  startTimeoutMs: 30_000,
  gracefulExit: true,
  watchesConfigFile: true,
});
