import type { ApiKey } from "../config/settings.ts";

/** `Bearer <key>` (a module constant: see src/runtime/http1-parse.ts's regular expressions). */
const BEARER = /^Bearer\s+(.+)$/i;

const encoder = new TextEncoder();

/** SHA-256 of a string as lowercase hex: what config stores instead of a key. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Compares two equal-length byte arrays in time independent of where they differ. */
function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * The configured API keys, by hash. A presented key is hashed once and compared with
 * every stored hash in constant time, without stopping at a match, so timing tells
 * an attacker neither how much of a hash matched nor which entry did.
 */
export class KeyRing {
  private readonly entries: { key: ApiKey; hash: Uint8Array }[];

  constructor(keys: readonly ApiKey[]) {
    this.entries = keys.map((key) => ({ key, hash: fromHex(key.sha256) }));
  }

  get size(): number {
    return this.entries.length;
  }

  async verify(presented: string): Promise<ApiKey | undefined> {
    const hash = fromHex(await sha256Hex(presented));
    let found: ApiKey | undefined;
    for (const e of this.entries) if (equalConstantTime(hash, e.hash) && !found) found = e.key;
    return found;
  }

  /** Same as verify, for a list of bare hashes (metrics keys). */
  static async matchesAny(presented: string, hashes: readonly string[]): Promise<boolean> {
    const hash = fromHex(await sha256Hex(presented));
    let ok = false;
    for (const h of hashes) ok = equalConstantTime(hash, fromHex(h)) || ok;
    return ok;
  }
}

/** The key a client presented: `Authorization: Bearer <key>` (OpenAI) or `x-api-key`. */
export function presentedKey(headers: Headers): string | undefined {
  const auth = headers.get("authorization");
  if (auth) {
    const m = BEARER.exec(auth.trim());
    return m?.[1]?.trim() || undefined;
  }
  return headers.get("x-api-key")?.trim() || undefined;
}
