/** Pieces of the API server's wire protocol used by the fake: Status objects and selectors. */
import type { KubeObject } from "../../src/kubernetes/reflector.ts";

/** A `Status` failure object, as the API server answers errors and ERROR watch events. */
export const status = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code,
});

/** Core list items carry no apiVersion/kind on the real server. */
export function stripTypeMeta(o: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

/** Equality-based label selectors and metadata field selectors, as kubectl sends them. */
export function selectorFilter(labelSel: string | null, fieldSel: string | null): (o: KubeObject) => boolean {
  const labelTests = (labelSel ?? "")
    .split(",")
    .filter(Boolean)
    .map((term): ((l: Record<string, string>) => boolean) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(term);
      if (ne) return (l) => l[ne[1]!] !== ne[2];
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq) return (l) => l[eq[1]!] === eq[2];
      if (term.startsWith("!")) return (l) => !(term.slice(1) in l);
      return (l) => term in l;
    });
  const fieldTests = (fieldSel ?? "")
    .split(",")
    .filter(Boolean)
    .map((term): ((o: KubeObject) => boolean) => {
      const [field, value] = term.split("=") as [string, string];
      if (field === "metadata.name") return (o) => o.metadata?.name === value;
      if (field === "metadata.namespace") return (o) => o.metadata?.namespace === value;
      throw new Error(`fake apiserver: unsupported field selector ${field}`);
    });
  return (o) => {
    const labels = (o.metadata?.["labels"] ?? {}) as Record<string, string>;
    return labelTests.every((t) => t(labels)) && fieldTests.every((t) => t(o));
  };
}
