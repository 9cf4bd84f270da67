import type { Credential, KeySource } from "../aigw/types.ts";
import { GatewayError } from "../errors.ts";
import type { SecretReader } from "./cluster-secrets.ts";

const FS = ["node:fs", "promises"].join("/");

/** How long a key read from a file is reused before the file is read again (rotation without reload). */
const FILE_TTL_MS = 10_000;

/**
 * API keys for hosted backends, read where the BackendSecurityPolicy's Secret says: its
 * value, an environment variable, a file, or (Kubernetes discovery on) the cluster's Secret;
 * files and cluster Secrets are read again after 10 s, so a rotated key is picked up. The client's own key is never used. A key that cannot be read is
 * a 503 naming where it was looked for, never the key.
 */
export class KeyStore {
  private readonly cache = new Map<string, { value: string; at: number }>();

  constructor(
    private readonly now: () => number,
    /** Reads a cluster Secret (Kubernetes discovery on); absent: such a source is a 503. */
    private readonly readSecret?: SecretReader,
  ) {}

  async header(credential: Credential, backend: string): Promise<[string, string]> {
    const key = await this.read(credential.source, credential.from, backend);
    return [credential.header, `${credential.prefix}${key}`];
  }

  private async read(source: KeySource, from: string, backend: string): Promise<string> {
    if (source.kind === "value") return source.value;
    if (source.kind === "env") {
      const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
      const value = env?.[source.name]?.trim();
      if (!value) throw missing(backend, `the environment variable ${source.name} (${from}) is not set`);
      return value;
    }
    if (source.kind === "secret") return this.fromCluster(source, from, backend);
    const cached = this.cache.get(source.path);
    if (cached && this.now() - cached.at < FILE_TTL_MS) return cached.value;
    let value: string;
    try {
      // A computed specifier: Workers have no files, and their bundle must not ask for node:fs.
      const fs: typeof import("node:fs/promises") = await import(FS);
      value = (await fs.readFile(source.path, "utf8")).trim();
    } catch (err) {
      throw missing(
        backend,
        `the file ${source.path} (${from}) cannot be read: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (!value) throw missing(backend, `the file ${source.path} (${from}) is empty`);
    this.cache.set(source.path, { value, at: this.now() });
    return value;
  }

  private async fromCluster(
    source: Extract<KeySource, { kind: "secret" }>,
    from: string,
    backend: string,
  ): Promise<string> {
    const where = `Secret ${source.namespace ? `${source.namespace}/` : ""}${source.name} (${from})`;
    const key = `secret:${source.namespace ?? ""}/${source.name}`;
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.at < FILE_TTL_MS) return cached.value;
    if (!this.readSecret) throw missing(backend, `${where} can only be read with Kubernetes discovery on`);
    let value: string | undefined;
    try {
      value = (await this.readSecret(source.namespace, source.name))["apiKey"]?.trim();
    } catch (err) {
      throw missing(backend, `${where} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!value) throw missing(backend, `${where} has no apiKey entry`);
    this.cache.set(key, { value, at: this.now() });
    return value;
  }
}

function missing(backend: string, why: string): GatewayError {
  return new GatewayError({
    status: 503,
    message: `The backend '${backend}' has no API key: ${why}. Set it, then retry.`,
    code: "backend_credential_missing",
  });
}
