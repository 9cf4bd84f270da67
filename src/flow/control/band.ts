import type { Admission } from "../../request.ts";
import type { Releasable } from "../../scope.ts";
import type { BandSettings } from "./config.ts";
import { type HeapSlot, IndexedHeap } from "./heap.ts";
import type {
  FairnessContext,
  FairnessPolicy,
  FlowRequest,
  FlowView,
  OrderingPolicy,
  QueueItemView,
} from "./types.ts";

/** What `admit()` resolves with. */
export interface AdmitResult {
  admission: Admission;
  slot: Releasable;
}

/** One queued request. The controller owns its settlement; the band owns its place. */
export class QueueItem implements QueueItemView, HeapSlot {
  heapIndex = -1;
  /** Band-wide arrival list, for evicting the newest. */
  prev: QueueItem | undefined = undefined;
  next: QueueItem | undefined = undefined;
  ended = false;
  /** Arrived while the pool had no endpoint: waits flowControl.noEndpointRequestTTL. */
  noEndpoint = false;
  cancelTimer: () => void = noop;
  onAbort: () => void = noop;
  resolve: (value: AdmitResult) => void = noop;
  reject: (err: unknown) => void = noop;

  constructor(
    readonly request: FlowRequest,
    readonly priority: number,
    readonly bytes: number,
    readonly arrivedAt: number,
    readonly ttlMs: number,
    readonly seq: number,
    readonly flow: FlowQueue,
  ) {}
}

function noop(): void {}

/** The queue of one flow (fairness id) inside a band; exists only while non-empty. */
export class FlowQueue implements FlowView {
  bytes = 0;
  activeIndex = -1;
  readonly heap: IndexedHeap<QueueItem>;

  constructor(
    readonly fairnessId: string,
    readonly priority: number,
    before: (a: QueueItem, b: QueueItem) => boolean,
  ) {
    this.heap = new IndexedHeap(before);
  }

  get length(): number {
    return this.heap.size;
  }

  head(): QueueItem {
    return this.heap.peek()!;
  }
}

/**
 * One priority band: its non-empty flows, the fairness policy's state, and totals.
 * The controller checks limits before calling `add`; the band keeps its books.
 */
export class Band {
  count = 0;
  bytes = 0;
  first: QueueItem | undefined = undefined;
  last: QueueItem | undefined = undefined;
  private readonly flows = new Map<string, FlowQueue>();
  /** Non-empty flows, unordered (swap-remove). */
  private readonly active: FlowQueue[] = [];
  private readonly state: unknown;
  private readonly ctx: FairnessContext;
  private readonly before: (a: QueueItem, b: QueueItem) => boolean;

  constructor(
    readonly settings: BandSettings,
    private readonly fairness: FairnessPolicy,
    ordering: OrderingPolicy,
  ) {
    const compare = (a: QueueItemView, b: QueueItemView) => ordering.compare(a, b) || a.seq - b.seq;
    this.before = (a, b) => compare(a, b) < 0;
    this.ctx = { compare };
    this.state = fairness.newState();
  }

  get priority(): number {
    return this.settings.priority;
  }

  /** The flow's queue, created (not yet active) if the flow has nothing queued. */
  flow(fairnessId: string): FlowQueue {
    return this.flows.get(fairnessId) ?? new FlowQueue(fairnessId, this.priority, this.before);
  }

  add(item: QueueItem): void {
    const flow = item.flow;
    flow.heap.push(item);
    flow.bytes += item.bytes;
    if (flow.length === 1) {
      this.fairness.activated?.(this.state, flow, this.active);
      this.flows.set(flow.fairnessId, flow);
      flow.activeIndex = this.active.length;
      this.active.push(flow);
    }
    this.count++;
    this.bytes += item.bytes;
    item.prev = this.last;
    if (this.last) this.last.next = item;
    else this.first = item;
    this.last = item;
  }

  /**
   * The next request to dispatch among the flows whose head `eligible` accepts (e.g. has
   * an endpoint with room), as fairness and ordering decide; undefined if none. Does not
   * remove it: `remove(item, true)` does.
   */
  choose(eligible: (head: QueueItem) => boolean): QueueItem | undefined {
    const flows = this.active.filter((f) => eligible(f.head()));
    if (flows.length === 0) return undefined;
    let flow = flows[0]!;
    if (flows.length > 1) {
      // The framework, not the policy, guarantees the pick is one of the offered flows.
      const chosen = this.fairness.pick(this.state, flows, this.ctx) as FlowQueue;
      if (flows.includes(chosen)) flow = chosen;
    }
    return flow.head();
  }

  /** Removes a queued item (dispatched or dropped). */
  remove(item: QueueItem, dispatched = false): void {
    const flow = item.flow;
    if (!flow.heap.remove(item)) return;
    flow.bytes -= item.bytes;
    this.count--;
    this.bytes -= item.bytes;
    if (item.prev) item.prev.next = item.next;
    else this.first = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.last = item.prev;
    item.prev = item.next = undefined;
    if (dispatched) this.fairness.dispatched?.(this.state, flow, item);
    if (flow.length === 0) this.deactivate(flow);
  }

  /** Non-empty flows (a copy), for stats. */
  flowsSnapshot(): FlowQueue[] {
    return this.active.slice();
  }

  private deactivate(flow: FlowQueue): void {
    const i = flow.activeIndex;
    const tail = this.active.pop()!;
    if (tail !== flow) {
      this.active[i] = tail;
      tail.activeIndex = i;
    }
    flow.activeIndex = -1;
    this.flows.delete(flow.fairnessId);
    this.fairness.deactivated?.(this.state, flow, this.active);
  }
}
