import { scriptLauncher } from "./launch.ts";
import { describeRuntime } from "./suite.ts";

// `npm start`: Bun, with BUN_CONFIG_MAX_HTTP_REQUESTS from the script.
describeRuntime("Bun", scriptLauncher("start", 20_000), {
  startTimeoutMs: 20_000,
  gracefulExit: true,
  watchesConfigFile: true,
});
