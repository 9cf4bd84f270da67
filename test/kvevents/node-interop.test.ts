import { expect, test } from "bun:test";

/**
 * The KV-event sockets under Node, against libzmq (the `zeromq` package, whose addon
 * cannot load under Bun): node-interop-script.ts runs there and reports what arrived.
 */
test("under Node: our ZMTP sockets interoperate with libzmq both ways, the simulator publishes, and the gateway routes to the holder", async () => {
  const proc = Bun.spawn(["node", "--import", "tsx", "test/kvevents/node-interop-script.ts"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(err).toBe("");
  expect(code).toBe(0);
  const r = JSON.parse(out.trim().split("\n").at(-1)!);
  expect(r.runtime).toStartWith("node ");
  expect(r).toMatchObject({
    libzmqPubToOurSub: true,
    libzmqFrames: ["kv@10.0.0.5@m", "seq", "payload"],
    ourPubToLibzmqSub: true,
    libzmqSubGot: ["kv@p@m", "hello"],
    libzmqSubFiltered: true,
    centralIndexed: true,
    centralMalformed: 0,
    simulatorPublishes: true,
    gatewayOnNodeRoutesToHolder: true,
  });
}, 60_000);
