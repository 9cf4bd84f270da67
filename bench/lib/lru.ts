/** A bounded set of keys, least recently touched evicted first (a Map kept in recency order). */
export class Lru {
  private readonly keys = new Map<string, true>();

  constructor(readonly capacity: number) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Marks `key` most recently used, inserting it and evicting the oldest past capacity. */
  touch(key: string): void {
    this.keys.delete(key);
    this.keys.set(key, true);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
  }

  get size(): number {
    return this.keys.size;
  }
}
