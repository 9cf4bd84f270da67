import type { Logger } from "../log.ts";
import { type InferenceModelRewrite, RewriteTable } from "../rewrite/index.ts";
import type { ConfigHolder } from "./holder.ts";
import type { GatewayConfig } from "./load.ts";
import type { InferenceObjective, InferencePool } from "./resources.ts";

/**
 * Resources watched in Kubernetes, laid over the file's config: the cluster's
 * InferencePool, InferenceObjectives and InferenceModelRewrites replace the file's.
 * Kept here so a file reload (which rebuilds the config) gets them again.
 */
export class ClusterOverlay {
  private pool: InferencePool | undefined;
  private objectives: readonly InferenceObjective[] | undefined;
  private rewrites: { docs: readonly InferenceModelRewrite[]; table: RewriteTable } | undefined;

  constructor(
    private readonly holder: ConfigHolder,
    private readonly logger: Logger,
  ) {}

  setPool(pool: InferencePool | undefined): void {
    this.pool = pool;
    this.holder.swap(this.apply(this.holder.current));
  }

  setObjectives(objectives: InferenceObjective[]): void {
    this.objectives = objectives;
    this.holder.swap(this.apply(this.holder.current));
  }

  /** A set that does not build (a conflict between resources) is refused; the last good one stays. */
  setRewrites(rewrites: InferenceModelRewrite[]): void {
    try {
      this.rewrites = { docs: rewrites, table: RewriteTable.build(rewrites) };
    } catch (err) {
      this.logger.error(
        "InferenceModelRewrites from the cluster rejected; the last good set stays in force",
        {
          error: err instanceof Error ? err.message : String(err),
        },
      );
      return;
    }
    this.holder.swap(this.apply(this.holder.current));
  }

  /** The config with the cluster's resources in place of the file's (as far as they are known yet). */
  apply(config: GatewayConfig): GatewayConfig {
    return Object.freeze({
      ...config,
      pool: this.pool ?? config.pool,
      objectives: this.objectives ?? config.objectives,
      rewrites: this.rewrites?.docs ?? config.rewrites,
      rewriteTable: this.rewrites?.table ?? config.rewriteTable,
    });
  }
}
