import { wranglerLauncher } from "./launch.ts";
import { describeRuntime } from "./suite.ts";

// `wrangler dev`: the Worker and its pool's Durable Object in local workerd; the object's
// alarm does the scraping. Start-up bundles the Worker first: budget generously.
describeRuntime("workerd (wrangler dev)", wranglerLauncher(90_000), {
  startTimeoutMs: 90_000,
  gracefulExit: false,
  watchesConfigFile: false,
});
