/**
 * Which pod holds which Responses API response. vLLM keeps a stored response in the memory
 * of the pod that produced it, so a request with `previous_response_id` can only continue
 * there: the schedule stage sends it to that pod while it is usable. Bounded (least
 * recently used first out) and ids are length-capped: pods mint them, but a client could
 * make a pod answer many times, so memory stays flat whatever arrives.
 */
export class ResponseAffinity {
  private readonly byId = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  /** Longest id kept (OpenAI's and vLLM's ids are `resp_` + 32 to 64 characters). */
  static readonly MAX_ID_LENGTH = 256;

  get size(): number {
    return this.byId.size;
  }

  remember(responseId: string, endpoint: string): void {
    if (responseId.length === 0 || responseId.length > ResponseAffinity.MAX_ID_LENGTH) return;
    this.byId.delete(responseId);
    this.byId.set(responseId, endpoint);
    if (this.byId.size > this.capacity) {
      const oldest = this.byId.keys().next().value;
      if (oldest !== undefined) this.byId.delete(oldest);
    }
  }

  /** The endpoint that produced `responseId`, if known (refreshes its place). */
  holder(responseId: string): string | undefined {
    const endpoint = this.byId.get(responseId);
    if (endpoint !== undefined) {
      this.byId.delete(responseId);
      this.byId.set(responseId, endpoint);
    }
    return endpoint;
  }

  /** Forgets responses held by endpoints that left the pool (their memory went with them). */
  retainEndpoints(stays: (endpoint: string) => boolean): void {
    for (const [id, endpoint] of this.byId) if (!stays(endpoint)) this.byId.delete(id);
  }
}
