/**
 * The partial-config-write scenario of bench/failures.ts: a writer that pauses mid-file
 * must never open a gateway that has auth on (issue 14 item 4).
 *
 * The config puts the `auth:` block last, so the part written before each pause is a
 * valid config without keys: a gateway that loads a half-written file serves keyless
 * requests until the rest arrives. Keyless clients probe all the time; a write "opened
 * the gateway" when any keyless request got a 200 between its start and the next write.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface PartialWriteDeps {
  /** The config file the gateway watches. */
  file: string;
  /** Endpoints for the config, each serving `model`. */
  pods: { name: string; address: string }[];
  model: string;
  /** Starts the gateway on `file` (already written) and returns its URL. */
  launch: () => Promise<string>;
  /** Pauses mid-file, in ms; each is tried `writesPerPause` times. */
  pauses?: number[];
  writesPerPause?: number;
}

/** Runs the scenario; returns the table cell. */
export async function partialConfigWrites(d: PartialWriteDeps): Promise<string> {
  const pauses = d.pauses ?? [300, 1000, 2000];
  const perPause = d.writesPerPause ?? 5;
  const head = [
    "apiVersion: gateway.inference.dev/v1alpha1",
    "kind: GatewayConfig",
    "logLevel: warn",
    "endpoints:",
    ...d.pods.map((p) => `  - { name: ${p.name}, address: "${p.address}", models: [${d.model}] }`),
    "",
  ].join("\n");
  // The key itself is never sent: only that keys exist matters.
  const sha256 = createHash("sha256").update("bench-key").digest("hex");
  const tail = ["auth:", "  apiKeys:", `    - { name: bench, sha256: ${sha256} }`, ""].join("\n");
  writeFileSync(d.file, head + tail);
  const url = await d.launch();

  let writeIndex = -1;
  const opened = new Set<number>();
  let keyless = 0;
  let got200 = 0;
  let stop = false;
  const probe = async () => {
    while (!stop) {
      const during = writeIndex;
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: d.model, max_tokens: 1, messages: [{ role: "user", content: "x" }] }),
      }).catch(() => undefined);
      await res?.text();
      keyless++;
      if (res?.status === 200) {
        got200++;
        if (during >= 0) opened.add(during);
      }
      await sleep(10);
    }
  };
  const probes = [probe(), probe()];
  for (const pause of pauses) {
    for (let i = 0; i < perPause; i++) {
      writeIndex++;
      const fd = openSync(d.file, "w");
      writeSync(fd, head);
      await sleep(pause);
      writeSync(fd, tail);
      closeSync(fd);
      await sleep(1500); // past the settle time: the whole file is loaded before the next write
    }
  }
  stop = true;
  await Promise.all(probes);
  const pausesText = pauses.map((p) => (p >= 1000 ? `${p / 1000} s` : `${p} ms`)).join(", ");
  return `pauses of ${pausesText}: ${opened.size} of ${writeIndex + 1} writes opened the gateway, ${got200.toLocaleString("en-US")} of ${keyless.toLocaleString("en-US")} keyless requests got 200`;
}
