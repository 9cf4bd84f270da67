/**
 * vLLM's KV-cache events as they travel (vllm/distributed/kv_events.py): each ZMQ
 * message is `[topic, seq (8-byte big-endian), payload]`, the payload a msgpack
 * `KVEventBatch`. msgspec encodes it `array_like` (`[ts, [event...], data_parallel_rank]`,
 * each event `[tag, field...]`) in the vLLM releases llm-d targets; newer builds may
 * encode structs as maps (`{ts, events, data_parallel_rank}`, events tagged by `type`):
 * both decode here. Events:
 *
 *   BlockStored      [block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium, lora_name, ...]
 *                    (blocks of a LoRA adapter are keyed by its `lora_name`, as requests for it are)
 *   BlockRemoved     [block_hashes, medium, ...]
 *   AllBlocksCleared []
 *
 * A block hash is an int (up to 64 bits) or bytes (vLLM's ExternalBlockHash); both become
 * a string key (decimal, or `0x` + hex). The topic is `kv@<pod>@<model>` (llm-d's
 * convention; `topicFilter` "kv@" subscribes to it).
 *
 * Anything that does not decode to this shape throws `KvEventError`: the caller counts
 * the message as malformed and skips it.
 */
import { Decoder, Encoder } from "@msgpack/msgpack";

export type EngineHash = string;

export interface BlockStored {
  readonly kind: "BlockStored";
  readonly blockHashes: readonly EngineHash[];
  readonly parentBlockHash: EngineHash | undefined;
  readonly tokenIds: readonly number[];
  readonly blockSize: number;
  readonly loraId: number | undefined;
  readonly medium: string | undefined;
  /** The LoRA adapter the blocks belong to (vLLM's `lora_name`), when any. */
  readonly loraName?: string | undefined;
}

export interface BlockRemoved {
  readonly kind: "BlockRemoved";
  readonly blockHashes: readonly EngineHash[];
  readonly medium: string | undefined;
}

export interface AllBlocksCleared {
  readonly kind: "AllBlocksCleared";
}

export type KvEvent = BlockStored | BlockRemoved | AllBlocksCleared;

export interface KvEventBatch {
  readonly ts: number;
  readonly events: readonly KvEvent[];
  readonly dataParallelRank: number | undefined;
}

export class KvEventError extends Error {
  override readonly name = "KvEventError";
}

/** Limits that keep one hostile message from allocating much. */
const decoder = new Decoder({
  useBigInt64: true,
  maxStrLength: 64 * 1024,
  maxBinLength: 1024,
  maxArrayLength: 4 * 1024 * 1024,
  maxMapLength: 64,
  maxExtLength: 0,
});

function fail(what: string): never {
  throw new KvEventError(what);
}

function hashOf(v: unknown): EngineHash {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  if (v instanceof Uint8Array) {
    let hex = "0x";
    for (const b of v) hex += b.toString(16).padStart(2, "0");
    return hex;
  }
  return fail(`a block hash must be an integer or bytes (got ${typeof v})`);
}

function hashes(v: unknown): EngineHash[] {
  if (!Array.isArray(v)) fail("block_hashes must be a list");
  return v.map(hashOf);
}

function tokens(v: unknown): number[] {
  if (!Array.isArray(v)) fail("token_ids must be a list");
  for (const t of v)
    if (typeof t !== "number" || !Number.isInteger(t) || t < 0) fail("token_ids must be integers");
  return v as number[];
}

function optString(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === "string" ? v : fail("medium must be a string or nil");
}

function optInt(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "bigint") return Number(v);
  return typeof v === "number" ? v : fail("lora_id must be an integer or nil");
}

/** Field values in declaration order, from either encoding. */
function fields(ev: unknown, names: readonly string[]): { tag: unknown; values: unknown[] } {
  if (Array.isArray(ev)) return { tag: ev[0], values: ev.slice(1) };
  if (ev !== null && typeof ev === "object" && !(ev instanceof Uint8Array)) {
    const o = ev as Record<string, unknown>;
    return { tag: o["type"], values: names.map((n) => o[n]) };
  }
  return fail("an event must be a list or a map");
}

const STORED = [
  "block_hashes",
  "parent_block_hash",
  "token_ids",
  "block_size",
  "lora_id",
  "medium",
  "lora_name",
] as const;
const REMOVED = ["block_hashes", "medium"] as const;

function event(ev: unknown): KvEvent {
  const { tag, values } = fields(ev, STORED);
  if (tag === "BlockStored") {
    const blockSize = values[3];
    if (typeof blockSize !== "number" || !Number.isInteger(blockSize) || blockSize < 1)
      fail("block_size must be a positive integer");
    const stored: BlockStored = {
      kind: "BlockStored",
      blockHashes: hashes(values[0]),
      parentBlockHash: values[1] === null || values[1] === undefined ? undefined : hashOf(values[1]),
      tokenIds: tokens(values[2]),
      blockSize,
      loraId: optInt(values[4]),
      medium: optString(values[5]),
    };
    const loraName = optString(values[6]);
    return loraName === undefined ? stored : { ...stored, loraName };
  }
  if (tag === "BlockRemoved") {
    const r = Array.isArray(ev) ? values : fields(ev, REMOVED).values;
    return { kind: "BlockRemoved", blockHashes: hashes(r[0]), medium: optString(r[1]) };
  }
  if (tag === "AllBlocksCleared") return { kind: "AllBlocksCleared" };
  return fail(`unknown event ${JSON.stringify(String(tag)).slice(0, 64)}`);
}

/** Decodes one KVEventBatch payload; throws KvEventError when it is not one. */
export function decodeKvEventBatch(payload: Uint8Array): KvEventBatch {
  let raw: unknown;
  try {
    raw = decoder.decode(payload);
  } catch (err) {
    return fail(`not msgpack: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200));
  }
  let ts: unknown;
  let events: unknown;
  let rank: unknown;
  if (Array.isArray(raw)) [ts, events, rank] = raw;
  else if (raw !== null && typeof raw === "object" && !(raw instanceof Uint8Array)) {
    const o = raw as Record<string, unknown>;
    [ts, events, rank] = [o["ts"], o["events"], o["data_parallel_rank"]];
  } else fail("a batch must be a list or a map");
  if (typeof ts !== "number" && typeof ts !== "bigint") fail("ts must be a number");
  if (!Array.isArray(events)) fail("events must be a list");
  return { ts: Number(ts), events: events.map(event), dataParallelRank: optInt(rank) };
}

/** The pod and model of an llm-d topic `kv@<pod>@<model>` (the model may contain `@`). */
export function parseTopic(topic: string): { pod: string; model: string } | undefined {
  const m = /^kv@([^@]+)@(.+)$/.exec(topic);
  return m ? { pod: m[1]!, model: m[2]! } : undefined;
}

const encoder = new Encoder({ useBigInt64: true });

/**
 * Encodes a batch as vLLM does (msgspec array_like: `[ts, [[tag, ...fields]], rank]`);
 * the simulator and the tests build their messages with it. Hashes are sent as ints.
 */
export function encodeKvEventBatch(batch: KvEventBatch): Uint8Array {
  const int = (h: EngineHash) => (h.startsWith("0x") ? hexBytes(h) : BigInt(h));
  const events = batch.events.map((e) => {
    if (e.kind === "BlockStored")
      return [
        "BlockStored",
        e.blockHashes.map(int),
        e.parentBlockHash === undefined ? null : int(e.parentBlockHash),
        e.tokenIds,
        e.blockSize,
        e.loraId ?? null,
        e.medium ?? null,
        e.loraName ?? null,
      ];
    if (e.kind === "BlockRemoved") return ["BlockRemoved", e.blockHashes.map(int), e.medium ?? null];
    return ["AllBlocksCleared"];
  });
  return encoder.encode([batch.ts, events, batch.dataParallelRank ?? 0]);
}

function hexBytes(h: string): Uint8Array {
  const out = new Uint8Array((h.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 + i * 2, 4 + i * 2), 16);
  return out;
}

/** The 8-byte big-endian sequence frame vLLM sends between topic and payload. */
export function seqFrame(seq: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(seq));
  return out;
}
