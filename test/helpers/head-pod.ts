/**
 * A raw TCP pod on a loopback port (Bun.listen): records each request's head as the bytes came
 * (latin1 text, up to and with its blank line) and answers every request with `answer`, a
 * whole HTTP/1.1 response. The tests' requests come in one piece each.
 */
export function headPod(answer: string): { heads: string[]; origin: string; stop(): void } {
  const heads: string[] = [];
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, data) {
        const text = Buffer.from(data).toString("latin1");
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        heads.push(text.slice(0, end + 4));
        socket.write(answer);
      },
    },
  });
  return { heads, origin: `127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
