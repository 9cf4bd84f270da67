/** A pick whose blocks the prefix index records after the decision (PrefixIndex.recordLater). */
export interface DeferredPick {
  endpoint: string;
  keys: readonly number[];
  capacity: number;
  /** Also counted in the prompt statistics (`prompts.record`). */
  prompt: boolean;
}

/**
 * The picks `PrefixIndex.recordLater` queued, applied oldest first in a microtask or by
 * `settle()` when the index is read or changed before that. A pick whose record throws is
 * skipped alone, as a PreRequest hook's throw was: it fails neither the other picks nor
 * the caller that happened to apply it.
 */
export class DeferredPicks {
  private queue: DeferredPick[] = [];
  private readonly settleSoon = () => this.settle();

  constructor(private readonly apply: (pick: DeferredPick) => void) {}

  add(pick: DeferredPick): void {
    this.queue.push(pick);
    if (this.queue.length === 1) queueMicrotask(this.settleSoon);
  }

  /** Picks not applied yet. */
  get size(): number {
    return this.queue.length;
  }

  settle(): void {
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    for (const pick of queue) {
      try {
        this.apply(pick);
      } catch {
        // See the class comment.
      }
    }
  }
}
