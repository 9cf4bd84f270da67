/**
 * The slice of the Cloudflare Workers API the Worker entry uses, declared here so the
 * project needs no @cloudflare/workers-types (whose globals clash with DOM and Bun types).
 * Names and shapes follow workerd's own declarations.
 */

/** `ctx.storage` of a Durable Object: only the alarm is used (all other state is in memory). */
export interface DurableObjectStorage {
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number | Date): Promise<void>;
  deleteAlarm(): Promise<void>;
}

/** The first constructor argument of a Durable Object. */
export interface DurableObjectState {
  readonly storage: DurableObjectStorage;
  /** Holds incoming events until `fn` settles (used once, to initialise). */
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
  waitUntil(promise: Promise<unknown>): void;
}

export interface DurableObjectId {
  toString(): string;
}

export interface DurableObjectStub {
  fetch(request: Request): Promise<Response>;
}

/** A `[[durable_objects.bindings]]` binding. */
export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}

/** The Worker's bindings (wrangler.toml): the pool object namespace, the config var, secrets. */
export interface WorkerEnv {
  GATEWAY_POOL: DurableObjectNamespace;
  /** The gateway config file's text (GatewayConfig + InferencePool + ... YAML documents). */
  GATEWAY_CONFIG?: string;
  /** Any other vars and secrets, e.g. what `auth.apiKeysEnv` or `upstream.credential.valueFromEnv` name. */
  [name: string]: unknown;
}
