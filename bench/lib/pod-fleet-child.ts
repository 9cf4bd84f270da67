/**
 * Child process of `startPodFleet` (bench/lib/pods.ts): starts the simulated pods given
 * as JSON in POD_FLEET_SPEC, prints one line `{"ports":[...]}` on stdout, and runs until
 * its stdin closes (the parent ended it or died), then closes the pods and exits.
 */
import { seededRandom } from "../../src/clock.ts";
import { serveBun } from "../../src/runtime/serve-bun.ts";
import { startSimulators } from "../../src/simulator/index.ts";
import type { PodSpec } from "./pods.ts";

const specs = JSON.parse(process.env["POD_FLEET_SPEC"] ?? "[]") as PodSpec[];
const pods = await startSimulators(
  serveBun,
  specs.map(({ seed, ...s }, i) => ({
    ...s,
    random: seededRandom(seed ?? 100 + i),
    port: 0,
    hostname: "127.0.0.1",
  })),
);
process.stdout.write(`${JSON.stringify({ ports: pods.map((p) => p.port) })}\n`);
for await (const _ of Bun.stdin.stream()) {
  // Nothing is sent on stdin; it only tells us when the parent is gone.
}
await Promise.all(pods.map((p) => p.close()));
process.exit(0);
