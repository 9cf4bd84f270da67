/**
 * A tiny HTTP/1.1 server on a raw loopback TCP socket, for what Bun.serve hides: how many
 * connections a client opened (keep-alive), and a pod that accepts and then never answers
 * (like one stopped with SIGSTOP: the kernel still accepts, nothing replies).
 */

/** `hold`: written only when the test calls `release()` (a busy pod answering late). */
export type RawAnswer = { status: number; body: string; contentType?: string; hold?: boolean } | "hang";

interface Conn {
  buffer: string;
}

export function startRawServer(answer: (path: string) => RawAnswer) {
  const stats = { connections: 0, requests: 0, closeRequested: 0, hanging: 0 };
  let handler = answer;
  const held: (() => void)[] = [];
  const server = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        stats.connections++;
        socket.data = { buffer: "" };
      },
      data(socket, chunk) {
        socket.data.buffer += new TextDecoder().decode(chunk);
        for (;;) {
          const end = socket.data.buffer.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = socket.data.buffer.slice(0, end);
          socket.data.buffer = socket.data.buffer.slice(end + 4); // GETs only: no request body
          stats.requests++;
          const close = /^connection:\s*close/im.test(head);
          if (close) stats.closeRequested++;
          const path = head.split(" ")[1] ?? "/";
          const a = handler(path);
          if (a === "hang") {
            stats.hanging++;
            return; // read nothing more from this connection, answer nothing
          }
          const body = new TextEncoder().encode(a.body);
          const write = () => {
            socket.write(
              `HTTP/1.1 ${a.status} X\r\ncontent-type: ${a.contentType ?? "text/plain; version=0.0.4"}\r\n` +
                `content-length: ${body.length}\r\n${close ? "connection: close\r\n" : ""}\r\n`,
            );
            socket.write(body);
            if (close) socket.end();
          };
          if (a.hold) held.push(write);
          else write();
        }
      },
    },
  });
  return {
    stats,
    /** Changes how later requests are answered. */
    answer(next: (path: string) => RawAnswer) {
      handler = next;
    },
    /** Writes every held answer; returns how many there were. */
    release(): number {
      const n = held.length;
      for (const w of held.splice(0)) w();
      return n;
    },
    held: () => held.length,
    address: `127.0.0.1:${server.port}`,
    url: (path = "/metrics") => `http://127.0.0.1:${server.port}${path}`,
    stop: () => server.stop(true),
  };
}
