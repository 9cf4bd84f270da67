import type { HostedBackend } from "../aigw/types.ts";
import type { Clock, SetTimer } from "../clock.ts";
import type { GatewayConfig } from "../config/load.ts";
import type { FetchFn } from "../deps.ts";
import { PassiveHealth } from "../endpoints/health.ts";
import { badRequest } from "../errors.ts";
import type { Closing } from "../lifecycle.ts";
import type { Logger } from "../log.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { DirectStreams } from "../proxy/relay.ts";
import type { InferenceRequest } from "../request.ts";
import { clusterSecretReader } from "./cluster-secrets.ts";
import { KeyStore } from "./credentials.ts";
import { BackendMetrics } from "./metrics.ts";
import { fetchTrusting } from "./tls-fetch.ts";

/** What the hosted-backend path needs from the gateway. */
export interface HostedDeps {
  config: { readonly current: GatewayConfig };
  fetch: FetchFn;
  clock: Clock;
  setTimer?: SetTimer;
  logger: Logger;
  metrics: GatewayMetrics;
  lifecycle?: { closing?: Closing };
  /** Streamed answers as the runtime's direct streams (GatewayOptions.directStreams). */
  directStreams?: DirectStreams;
}

/**
 * The gateway's state for hosted backends, one per gateway: API keys, passive health
 * (the pods' outlier rules, by backend name), metrics, and one HTTPS client per custom CA.
 */
export class HostedBackends {
  readonly keys: KeyStore;
  readonly health: PassiveHealth;
  private metricsOnce: BackendMetrics | undefined;
  private readonly fetchers = new Map<string, FetchFn>();

  constructor(readonly deps: HostedDeps) {
    const up = () => deps.config.current.settings.upstream;
    const kubernetes = () => deps.config.current.settings.kubernetes;
    this.keys = new KeyStore(
      () => deps.clock.now(),
      kubernetes() ? clusterSecretReader(kubernetes) : undefined,
    );
    this.health = new PassiveHealth({
      logger: deps.logger,
      ejectAfterFailures: () => up().ejectAfterFailures,
      ejectionMs: () => up().ejectionMs,
      maxEjectionMs: () => up().maxEjectionMs,
      failureWindow: () => up().failureWindow,
      maxFailureRate: () => up().maxFailureRate,
      ...(deps.setTimer ? { setTimer: deps.setTimer } : {}),
    });
  }

  /** Registered on first use: a gateway without route documents exposes no backend families. */
  get metrics(): BackendMetrics {
    this.metricsOnce ??= new BackendMetrics(this.deps.metrics.registry);
    return this.metricsOnce;
  }

  /** The fetch for a backend: the gateway's own (system CAs), or one trusting its BackendTLSPolicy's CA. */
  fetchFor(backend: HostedBackend): FetchFn {
    if (!backend.ca) return this.deps.fetch;
    let f = this.fetchers.get(backend.ca);
    if (!f) {
      f = fetchTrusting(backend.ca);
      this.fetchers.set(backend.ca, f);
    }
    return f;
  }
}

const AZURE_PATHS: Partial<Record<string, string>> = {
  chat: "chat/completions",
  completions: "completions",
  embeddings: "embeddings",
};

/**
 * The backend's URL for a request: OpenAI schema keeps the route's path under the
 * backend's version prefix (`/v1` by default); AzureOpenAI addresses the deployment named
 * by the model (`/openai/deployments/{model}/chat/completions?api-version=...`).
 */
export function backendUrl(b: HostedBackend, req: InferenceRequest, model: string): string {
  if (b.schema === "AzureOpenAI") {
    const suffix = AZURE_PATHS[req.kind];
    if (!suffix)
      throw badRequest(
        `The backend '${b.name}' (AzureOpenAI) serves chat completions, completions and embeddings only; ${req.path} cannot go there. Route this path to an OpenAI-schema backend or a pool.`,
        null,
        "unsupported_route_for_backend",
      );
    const version = b.version ? `?api-version=${encodeURIComponent(b.version)}` : "";
    return `${b.origin}/openai/deployments/${encodeURIComponent(model)}/${suffix}${version}`;
  }
  const prefix =
    b.version === undefined ? "/v1" : b.version === "" ? "" : `/${b.version.replace(/^\/+|\/+$/g, "")}`;
  const path = req.path.startsWith("/v1/") ? `${prefix}${req.path.slice(3)}` : req.path;
  return `${b.origin}${path}`;
}

/**
 * One HostedBackends per gateway. The stages are built once per route (several chains per
 * gateway), so the instance is kept beside the gateway's config holder, which every chain
 * shares; a second gateway in the same process gets its own.
 */
const byGateway = new WeakMap<object, HostedBackends>();

export function hostedBackends(deps: HostedDeps): HostedBackends {
  let rt = byGateway.get(deps.config);
  if (!rt) {
    rt = new HostedBackends(deps);
    byGateway.set(deps.config, rt);
  }
  return rt;
}
