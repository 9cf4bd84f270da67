import type { Endpoint } from "../endpoints/types.ts";
import type { Admission } from "../request.ts";
import type { FlowController, FlowControlStats } from "./control/api.ts";
import type { FlowRequest } from "./control/types.ts";

/**
 * One flow controller that can be replaced while requests wait in it, so a config reload
 * that changes flow control (bands, fairness, ordering, detector) takes effect at once:
 * new arrivals go to the newest controller; requests queued in an older one keep their
 * place there (same band, same order) and are dispatched from it, older controllers
 * first, until it holds nothing and is let go. No request is moved, dropped or re-queued.
 * The old queue's room is judged by the old settings (its ceilings and detector): after a
 * reload that raises capacity, a new arrival may be admitted while an old request still
 * waits for room by the old measure, until the next release or metrics refresh.
 */
export interface SuccessiveFlowController extends FlowController {
  /** Sends new arrivals to `next`; the current controller drains what it holds. */
  replace(next: FlowController): void;
  /** How many controllers still hold requests besides the current one (tests, logs). */
  draining(): number;
}

/** Wraps `first`; see SuccessiveFlowController. */
export function successiveFlowController(first: FlowController): SuccessiveFlowController {
  let current = first;
  /** Replaced controllers still holding queued or admitted requests, oldest first. */
  const old: FlowController[] = [];
  /** Which controller granted an admission: its schedule-stage call goes back there. */
  const grantedBy = new WeakMap<Admission, FlowController>();
  let closed = false;

  const holds = (c: FlowController) => {
    const s = c.stats();
    return s.queued > 0 || s.dispatched > 0;
  };
  /** Lets go of drained controllers (shutting one down only stops its endpoint subscription). */
  function retire(): void {
    for (let i = old.length - 1; i >= 0; i--) {
      const c = old[i]!;
      if (holds(c)) continue;
      old.splice(i, 1);
      c.shutdown();
    }
  }
  /**
   * Room goes first to the controller whose highest waiting band is highest, older first
   * on a tie (its requests were there before). A slot released in a controller is
   * offered to that controller's queue first (it dispatches on release), so while an old
   * queue drains a newer higher-priority arrival may wait behind it for one release.
   */
  function capacityChanged(): void {
    if (old.length === 0) {
      current.onCapacityChange();
      return;
    }
    const all = [...old, current];
    const top = all.map((c) => topWaiting(c.stats()));
    const order = all.map((_, i) => i).sort((a, b) => top[b]! - top[a]! || a - b);
    for (const i of order) all[i]!.onCapacityChange();
    retire();
  }

  return {
    async admit(request: FlowRequest) {
      const controller = current;
      const result = await controller.admit(request);
      grantedBy.set(result.admission, controller);
      const slot = result.slot;
      return {
        admission: result.admission,
        slot: {
          release(outcome) {
            slot.release(outcome); // dispatches its own controller's queue
            // Room freed in one controller is room for the requests waiting in the others.
            if (old.length > 0) capacityChanged();
          },
        },
      };
    },
    onCapacityChange: capacityChanged,
    withRoom(endpoints: readonly Endpoint[], admission: Admission) {
      return (grantedBy.get(admission) ?? current).withRoom(endpoints, admission);
    },
    shutdown() {
      closed = true;
      for (const c of old.splice(0)) c.shutdown();
      current.shutdown();
    },
    stats: () => mergeStats([...old, current].map((c) => c.stats())),
    replace(next) {
      if (closed) {
        next.shutdown();
        return;
      }
      old.push(current);
      current = next;
      retire();
      // The old one's queue may already fit: it is dispatched before any new arrival.
      capacityChanged();
    },
    draining: () => old.length,
  };
}

/** The priority of the highest band with a waiting request; -Infinity when none waits. */
function topWaiting(s: FlowControlStats): number {
  let top = Number.NEGATIVE_INFINITY;
  for (const b of s.bands) if (b.requests > 0 && b.priority > top) top = b.priority;
  return top;
}

/** The stats of several controllers as one: counts summed, bands and flows merged by key. */
function mergeStats(all: readonly FlowControlStats[]): FlowControlStats {
  if (all.length === 1) return all[0]!;
  const bands = new Map<number, FlowControlStats["bands"][number]>();
  for (const s of all)
    for (const b of s.bands) {
      const into = bands.get(b.priority) ?? { priority: b.priority, requests: 0, bytes: 0, flows: [] };
      into.requests += b.requests;
      into.bytes += b.bytes;
      for (const f of b.flows) {
        const same = into.flows.find((x) => x.fairnessId === f.fairnessId);
        if (same) {
          same.requests += f.requests;
          same.bytes += f.bytes;
        } else into.flows.push({ ...f });
      }
      bands.set(b.priority, into);
    }
  return {
    queued: all.reduce((n, s) => n + s.queued, 0),
    queuedBytes: all.reduce((n, s) => n + s.queuedBytes, 0),
    dispatched: all.reduce((n, s) => n + s.dispatched, 0),
    shuttingDown: all[all.length - 1]!.shuttingDown,
    bands: [...bands.values()].sort((a, b) => b.priority - a.priority),
  };
}
