import type { Logger } from "../log.ts";
import { type InferenceModelRewrite, RewriteTable } from "../rewrite/index.ts";
import type { ConfigHolder } from "./holder.ts";
import { type GatewayConfig, withPools } from "./load.ts";
import { type PoolConfig, splitByPool } from "./pools.ts";
import type { EndpointPickerConfig, InferenceObjective, InferencePool } from "./resources.ts";

/** A pool the cluster serves, under the name the gateway routes it by. */
export interface ClusterPool {
  readonly key: string;
  readonly pool: InferencePool;
}

export interface ClusterOverlayOptions {
  /** Checks a config's picker configs can be built (the gateway's checkConfig); throws when not. */
  check?: (config: GatewayConfig) => void;
}

type Inputs = readonly unknown[];

/**
 * The pools watched in Kubernetes, laid over the file's config: once discovery has reported,
 * the cluster's InferencePools are the pools served (in discovery's order), each with the
 * InferenceObjectives and InferenceModelRewrites whose poolRef names it (the file's part of
 * the same name until the cluster's are known) and the file's EndpointPickerConfig that
 * `splitByPool` assigns it (by `spec.endpointPickerRef.name` or the pool's name, else the
 * unnamed or only one). Kept here so a file reload (which rebuilds the config) gets them
 * again through `apply`. While the cluster serves no pool, the file's pools are served.
 */
export class ClusterOverlay {
  private pools: readonly ClusterPool[] = [];
  private readonly objectives = new Map<string, readonly InferenceObjective[]>();
  private readonly rewrites = new Map<string, readonly InferenceModelRewrite[]>();
  /** Each pool's last built part and what it was built from, so unchanged pools are not rebuilt. */
  private readonly built = new Map<string, { inputs: Inputs; part: PoolConfig }>();
  private readonly checked = new WeakMap<EndpointPickerConfig, string | undefined>();
  /** The file's config under the one in force: what a cluster change is laid over again. */
  private base: GatewayConfig;
  /** What each config `apply` built was built from, to find the file's config when it is swapped in. */
  private readonly from = new WeakMap<GatewayConfig, GatewayConfig>();

  constructor(
    private readonly holder: ConfigHolder,
    private readonly logger: Logger,
    private readonly opts: ClusterOverlayOptions = {},
  ) {
    this.base = holder.current;
    // A reload swaps in apply(file); a config swapped in some other way is the new base itself.
    holder.onSwap((next) => {
      this.base = this.from.get(next) ?? next;
    });
  }

  /** The pools the cluster serves now, in routing order; their documents follow the pools. */
  setPools(pools: readonly ClusterPool[]): void {
    const keys = new Set(pools.map((p) => p.key));
    for (const m of [this.objectives, this.rewrites, this.built])
      for (const key of m.keys()) if (!keys.has(key)) m.delete(key);
    this.pools = pools;
    this.swap();
  }

  setObjectives(pool: string, objectives: readonly InferenceObjective[]): void {
    this.objectives.set(pool, objectives);
    this.swap();
  }

  /** A set that does not build (a conflict between rewrites) is refused; the pool's last good one stays. */
  setRewrites(pool: string, rewrites: readonly InferenceModelRewrite[]): void {
    try {
      RewriteTable.build(rewrites);
    } catch (err) {
      this.logger.error(
        "InferenceModelRewrites from the cluster rejected; the last good set stays in force",
        { pool, error: err instanceof Error ? err.message : String(err) },
      );
      return;
    }
    this.rewrites.set(pool, rewrites);
    this.swap();
  }

  /** The config with the cluster's pools in place of the file's (as far as they are known yet). */
  apply(config: GatewayConfig): GatewayConfig {
    const parts = this.pools.map((p) => this.part(p, config)).filter((p): p is PoolConfig => p !== undefined);
    const next = withPools(config, parts);
    this.from.set(next, config);
    return next;
  }

  private swap(): void {
    this.holder.swap(this.apply(this.base));
  }

  private part({ key, pool }: ClusterPool, config: GatewayConfig): PoolConfig | undefined {
    const file = config.pools.find((p) => p.name === key);
    const objectives = this.objectives.get(key) ?? file?.objectives ?? [];
    const rewrites = this.rewrites.get(key) ?? file?.rewrites ?? [];
    const inputs = [pool, objectives, rewrites, config.pickers];
    const last = this.built.get(key);
    let part = last?.inputs.every((x, i) => x === inputs[i]) ? last.part : undefined;
    if (!part) {
      // One pool at a time, every resource given is its own (discovery split them by poolRef).
      [part] = splitByPool({
        names: [key],
        docs: [pool],
        implicit: true,
        objectives,
        rewrites,
        pickers: config.pickers,
      }).pools;
      this.built.set(key, { inputs, part: part! });
    }
    return this.usable(part!, config) ? part : undefined;
  }

  /** A picker config the gateway cannot build keeps its pool out (logged once per picker). */
  private usable(part: PoolConfig, config: GatewayConfig): boolean {
    const picker = part.pickerConfig;
    if (!picker || !this.opts.check) return true;
    if (!this.checked.has(picker)) {
      let error: string | undefined;
      try {
        this.opts.check(withPools(config, [part]));
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        this.logger.error("kubernetes: InferencePool not served: its EndpointPickerConfig does not build", {
          pool: part.name,
          error,
        });
      }
      this.checked.set(picker, error);
    }
    return this.checked.get(picker) === undefined;
  }
}
