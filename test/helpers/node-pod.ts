/**
 * A `node:http` pod on a loopback port (the wire client's tests: a server it did not write):
 * `base` is its origin; `close()` drops its kept-alive connections and stops it.
 */
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";

export interface NodePod {
  readonly base: string;
  close(): void;
}

export async function startNodePod(handle: RequestListener): Promise<NodePod> {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
