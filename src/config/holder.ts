import type { GatewayConfig } from "./load.ts";

/**
 * The configuration in force. A reload swaps the whole object at once; a request
 * reads `current` once per stage, so it sees one consistent config per read and
 * in-flight requests keep what they already took.
 */
export class ConfigHolder {
  private config: GatewayConfig;
  private readonly listeners = new Set<(config: GatewayConfig) => void>();

  constructor(initial: GatewayConfig) {
    this.config = initial;
  }

  get current(): GatewayConfig {
    return this.config;
  }

  swap(next: GatewayConfig): void {
    this.config = next;
    for (const l of this.listeners) l(next);
  }

  onSwap(listener: (config: GatewayConfig) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
