/**
 * Decoding the custom resources read from the API server, and merging the two API
 * groups they are published in (`inference.networking.x-k8s.io/v1alpha2` and
 * `llm-d.ai/v1alpha2`). An invalid document is logged with the field path and skipped;
 * it never stops discovery.
 */
import * as v from "valibot";
import { ConfigError } from "../config/errors.ts";
import { toConfigError } from "../config/issues.ts";
import {
  type InferenceObjective,
  InferenceObjectiveSchema,
  type InferencePool,
  InferencePoolSchema,
} from "../config/resources.ts";
import type { Logger } from "../log.ts";
import { type InferenceModelRewrite, parseRewrite } from "../rewrite/index.ts";
import type { KubeObject } from "./reflector.ts";

export const POOL_GROUP_VERSION = "inference.networking.k8s.io/v1";
/** Both publications of the alpha resources, in precedence order for same-named duplicates. */
export const ALPHA_GROUP_VERSIONS = ["inference.networking.x-k8s.io/v1alpha2", "llm-d.ai/v1alpha2"] as const;

const label = (obj: KubeObject) =>
  `${obj.kind ?? "object"}/${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;

function invalid(logger: Logger, obj: KubeObject, err: unknown): undefined {
  const message = err instanceof Error ? err.message : String(err);
  logger.warn("kubernetes: invalid resource skipped", {
    resource: label(obj),
    resourceVersion: obj.metadata?.resourceVersion,
    error: message,
  });
  return undefined;
}

export function decodePool(logger: Logger) {
  return (obj: KubeObject): InferencePool | undefined => {
    const r = v.safeParse(InferencePoolSchema, obj);
    return r.success ? r.output : invalid(logger, obj, toConfigError(r.issues, label(obj)));
  };
}

export function decodeObjective(logger: Logger) {
  return (obj: KubeObject): InferenceObjective | undefined => {
    const r = v.safeParse(InferenceObjectiveSchema, obj);
    return r.success ? r.output : invalid(logger, obj, toConfigError(r.issues, label(obj)));
  };
}

export function decodeRewrite(logger: Logger) {
  return (obj: KubeObject): InferenceModelRewrite | undefined => {
    try {
      return parseRewrite(obj);
    } catch (err) {
      if (err instanceof ConfigError) return invalid(logger, obj, err);
      throw err;
    }
  };
}

type Doc = {
  apiVersion: string;
  metadata: { name: string; namespace?: string | undefined; creationTimestamp?: string | undefined };
  spec: { poolRef: { name: string } };
};

const time = (d: Doc) => {
  const t = d.metadata.creationTimestamp ? Date.parse(d.metadata.creationTimestamp) : Number.NaN;
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
};
const id = (d: Doc) => `${d.metadata.namespace ?? ""}/${d.metadata.name}`;
const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/** creationTimestamp (oldest first, undated last), then namespace/name, then API group order. */
export function byAgeThenName(a: Doc, b: Doc): number {
  return (
    cmp(time(a), time(b)) ||
    cmp(id(a), id(b)) ||
    cmp(
      ALPHA_GROUP_VERSIONS.indexOf(a.apiVersion as never),
      ALPHA_GROUP_VERSIONS.indexOf(b.apiVersion as never),
    )
  );
}

/**
 * The documents of all groups that reference `poolName`, one per namespace/name: when both
 * groups hold the same name, the older one wins (ties: the x-k8s.io group) and `onDuplicate`
 * hears about the loser. Sorted by `byAgeThenName`.
 */
export function mergeGroups<T extends Doc>(
  groups: readonly ReadonlyMap<string, T>[],
  poolName: string,
  onDuplicate: (kept: T, dropped: T) => void = () => {},
): T[] {
  const all = groups
    .flatMap((g) => [...g.values()])
    .filter((d) => d.spec.poolRef.name === poolName)
    .sort(byAgeThenName);
  const seen = new Map<string, T>();
  for (const d of all) {
    const kept = seen.get(id(d));
    if (kept) onDuplicate(kept, d);
    else seen.set(id(d), d);
  }
  return [...seen.values()];
}
