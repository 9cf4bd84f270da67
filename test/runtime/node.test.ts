import { scriptLauncher } from "./launch.ts";
import { describeRuntime } from "./suite.ts";

// `npm run start:node`: Node through tsx, @hono/node-server.
describeRuntime("Node", scriptLauncher("start:node", 30_000), {
  startTimeoutMs: 30_000,
  gracefulExit: true,
  watchesConfigFile: true,
});
