/**
 * The Worker's copy of the Durable Object's response body: the same chunks, pulled one at a
 * time (no buffering), through a stream the Worker's own code owns.
 *
 * Why: when the Worker returns the object's body as it is, workerd pumps it natively and a
 * client that disconnects reaches the object only sometimes (measured under wrangler dev: 2
 * of 6 streams); the object never learns, its request holds its flow-control slot and
 * in-flight count forever, and the pod generates to the end. When the Worker relays the body
 * through a JS stream, the disconnect cancels that stream, and its cancel cancels the
 * object's body, which the gateway's relay turns into an upstream abort (6 of 6).
 */
export function relayBody(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = await reader.read();
        if (chunk.done) controller.close();
        else controller.enqueue(chunk.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
