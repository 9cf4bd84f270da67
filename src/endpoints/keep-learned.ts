import type { EndpointStore } from "./store.ts";
import type { Endpoint } from "./types.ts";

type Described = Omit<Endpoint, "metrics">;

/**
 * A new endpoint set (a config reload, a Kubernetes pod change) with what the gateway
 * already learned about the endpoints that stay: the models each one reported on its
 * `/v1/models`. Without this a reload would hand every such endpoint an empty model set,
 * which the store reads as "serves anything", and requests would reach pods that do not
 * serve their model until the next discovery round. Metrics and health are kept by name
 * by the store and PassiveHealth themselves.
 *
 * An endpoint keeps its learned models only when it still learns them (`learns(name)`,
 * i.e. the config gives it no models) and its address is unchanged (same pod).
 */
export function keepLearned(
  store: EndpointStore,
  next: readonly Described[],
  learns: (name: string) => boolean,
): Described[] {
  return next.map((e) => {
    if (e.models.size > 0 || !learns(e.name)) return e;
    const known = store.get(e.name);
    return known && known.address === e.address && known.models.size > 0 ? { ...e, models: known.models } : e;
  });
}
