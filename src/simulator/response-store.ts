/**
 * Responses a simulated pod produced with `store` (OpenAI's default: true), kept for
 * GET /v1/responses/{id} and for `previous_response_id`. Bounded: at most `capacity`,
 * the least recently used dropped first (a real pod's store is finite too; a dropped id
 * is a 404 afterwards, as on a pod that never held it).
 */

export interface StoredResponse {
  /** The response object as it was answered. */
  body: unknown;
  /** The conversation so far (earlier turns, this turn's input and output) as prompt text. */
  context: string;
}

export class ResponseStore {
  private readonly entries = new Map<string, StoredResponse>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The stored response, marked as recently used; undefined when not held. */
  get(id: string): StoredResponse | undefined {
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      this.entries.set(id, hit);
    }
    return hit;
  }

  put(id: string, entry: StoredResponse): void {
    if (this.capacity <= 0) return;
    this.entries.delete(id);
    this.entries.set(id, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}
