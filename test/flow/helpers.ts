import * as v from "valibot";
import { builtinFlowPolicies } from "../../plugins/flow/index.ts";
import type { Endpoint, MetricsSnapshot } from "../../src/endpoints/types.ts";
import type { GatewayError } from "../../src/errors.ts";
import {
  type AdmitResult,
  createFlowController,
  FlowControlConfigSchema,
  type FlowController,
  type FlowControllerOptions,
  type FlowRequest,
  type SaturationDetector,
} from "../../src/flow/control/index.ts";
import { FakeTime } from "../helpers/fake-time.ts";

export { FakeTime };

const FRESH: MetricsSnapshot = { waitingQueueSize: 0, runningRequests: 0, kvCacheUsage: 0, updatedAt: 1 };

export function endpoint(name: string, metrics: Partial<MetricsSnapshot> = {}): Endpoint {
  return {
    name,
    address: `10.0.0.${name.length}:8000`,
    labels: {},
    engine: "vllm",
    models: new Set(),
    metrics: { ...FRESH, ...metrics },
  };
}

/** A detector whose value (every endpoint's score) the test sets (`value`). */
export function manualDetector(value = 0): SaturationDetector & { value: number } {
  return {
    type: "manual",
    name: "manual",
    value,
    score() {
      return this.value;
    },
  };
}

/**
 * Score = in-flight / slots per endpoint: each endpoint takes `slots` requests, then
 * queues. The harness's admitted requests never reach an endpoint's in-flight count, so
 * the controller holds them as granted-but-unplaced: the pool takes `slots` × endpoints.
 */
export function slotsDetector(slots: number): SaturationDetector {
  return { type: "slots", name: "slots", score: (_e, load) => load.inflight / slots };
}

export interface Ticket {
  readonly tag: string;
  readonly request: FlowRequest;
  readonly abort: AbortController;
  state: "pending" | "admitted" | "rejected";
  result?: AdmitResult;
  error?: GatewayError;
  settledCount: number;
}

export interface Harness {
  readonly ctl: FlowController;
  readonly time: FakeTime;
  readonly endpoints: Endpoint[];
  /** Tags of admitted tickets, in admission order. */
  readonly admitted: string[];
  submit(tag: string, req?: Partial<FlowRequest>): Ticket;
  /** Admitted tickets whose slot is still held, oldest first. */
  readonly held: Ticket[];
  /** Releases an admitted ticket's slot. */
  done(t: Ticket): void;
  /** Releases the oldest held slot and lets the queue move, `n` times. */
  drain(n: number): Promise<void>;
  /** Lets promise callbacks run (microtasks only, no real time). */
  flush(): Promise<void>;
}

export function harness(
  opts: {
    config?: unknown;
    saturation?: SaturationDetector;
    priorities?: Record<string, number>;
    endpoints?: Endpoint[];
  } & Partial<Pick<FlowControllerOptions, "observe" | "policies" | "inflight">> = {},
): Harness {
  const time = new FakeTime();
  const endpoints = opts.endpoints ?? [endpoint("pod-a")];
  const listeners = new Set<() => void>();
  const admitted: string[] = [];
  const held: Ticket[] = [];
  const priorities = opts.priorities ?? {};
  const ctl = createFlowController({
    clock: time.clock,
    setTimer: time.setTimer,
    priorityOf: (o) => (o ? (priorities[o] ?? 0) : 0),
    saturation: opts.saturation ?? slotsDetector(1),
    endpoints: {
      list: () => endpoints,
      onChange: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
    config: v.parse(FlowControlConfigSchema, opts.config ?? {}),
    ...(opts.observe ? { observe: opts.observe } : {}),
    policies: opts.policies ?? builtinFlowPolicies(),
    ...(opts.inflight ? { inflight: opts.inflight } : {}),
  });
  return {
    ctl,
    time,
    endpoints,
    admitted,
    held,
    submit(tag, req = {}) {
      const abort = new AbortController();
      const request: FlowRequest = {
        objective: undefined,
        fairnessId: "default-flow",
        targetModel: "m",
        bytes: 100,
        signal: abort.signal,
        ...req,
      };
      const t: Ticket = { tag, request, abort, state: "pending", settledCount: 0 };
      ctl.admit(request).then(
        (r) => {
          t.settledCount++;
          t.state = "admitted";
          t.result = r;
          admitted.push(tag);
          held.push(t);
        },
        (e: GatewayError) => {
          t.settledCount++;
          t.state = "rejected";
          t.error = e;
        },
      );
      return t;
    },
    done(t) {
      if (!t.result) throw new Error(`${t.tag} was not admitted`);
      const i = held.indexOf(t);
      if (i >= 0) held.splice(i, 1);
      t.result.slot.release("success");
    },
    async drain(n) {
      await this.flush();
      for (let i = 0; i < n && held.length > 0; i++) {
        this.done(held[0]!);
        await this.flush();
      }
    },
    async flush() {
      for (let i = 0; i < 20; i++) await Promise.resolve();
    },
  };
}

/** Admitted flow ids (the part of the tag before '#'), in order. */
export const flowsOf = (tags: readonly string[]) => tags.map((t) => t.split("#")[0]);

export function countBy<T>(xs: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}
