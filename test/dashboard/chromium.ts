import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/**
 * The one headless Chromium the dashboard browser tests drive (Debian's /usr/bin/chromium
 * through playwright-core), so the path, the skip rule and the launch flags live in one place.
 */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether browser tests run: Chromium is installed here, or this is CI (which always installs it). */
export const chromiumRuns = existsSync(CHROMIUM) || Boolean(process.env.CI);

/** Quiet, offline flags: no sandbox or GPU (containers), no background network, QUIC, sync or updates. */
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launches Chromium; in CI a missing binary is an error that says how to install it, not a skip. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing in CI: .ci/run installs it (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}
