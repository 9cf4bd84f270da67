/**
 * Token ids learned from the pods' own tokenizer (vLLM's POST /tokenize), off the request
 * path: scheduling is synchronous and does no I/O, so a prompt the gateway has not
 * learned yet scores nothing (load decides) and is tokenized in the background; later
 * requests sharing its prefix find the tokens here.
 *
 * What is learned (llm-d's tokenizer prefix store, by message rather than characters):
 * - chat: the messages before the last one (system prompt and history, the part the next
 *   requests share), rendered `add_generation_prompt: false`; a one-message chat whole.
 *   A lookup takes the longest learned message prefix, so a new question after a known
 *   system prompt, or the next turn of a conversation, is matched on what they share.
 * - completions: the prompt string, whole (a repeat matches).
 *
 * Bounded: `maxEntries` prefixes and `maxTokens` tokens in all (least recently used out),
 * `maxInFlight` tokenize calls at once (more are skipped, retried by later requests); a
 * pod that fails is not asked again for `retryMs`.
 */
import type { Clock } from "../clock.ts";
import type { Endpoint } from "../endpoints/types.ts";
import { promptText } from "../scheduling/prefix/prompt.ts";
import { hashString } from "./block-keys.ts";

export interface PodTokensOptions {
  readonly clock: Clock;
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>;
  readonly maxEntries?: number;
  readonly maxTokens?: number;
  readonly maxInFlight?: number;
  readonly retryMs?: number;
  readonly log?: (msg: string) => void;
}

type Body = Readonly<Record<string, unknown>>;

export class PodTokens {
  private readonly cache = new Map<number, Uint32Array>();
  private tokens = 0;
  private readonly pending = new Set<number>();
  private readonly failedUntil = new Map<string, number>();
  /** Calls made, answers learned, failures: for tests and the log. */
  readonly stats = { calls: 0, learned: 0, failures: 0 };

  constructor(private readonly o: PodTokensOptions) {}

  /** The leading tokens known for this request, if any; schedules learning what is missing. */
  lookup(model: string, body: Body, endpoints: readonly Endpoint[]): Uint32Array | undefined {
    const messages = body["messages"];
    if (Array.isArray(messages) && messages.length > 0) {
      const learnUpTo = messages.length === 1 ? 1 : messages.length - 1;
      let found: Uint32Array | undefined;
      for (let k = messages.length; k >= 1 && found === undefined; k--)
        found = this.get(model, messages.slice(0, k));
      this.learn(model, { messages: messages.slice(0, learnUpTo) }, endpoints);
      return found;
    }
    if (typeof body["prompt"] === "string") {
      const found = this.get(model, body["prompt"]);
      if (found === undefined) this.learn(model, { prompt: body["prompt"] }, endpoints);
      return found;
    }
    return undefined;
  }

  private key(model: string, what: unknown[] | string): number {
    const text = typeof what === "string" ? `p:${what}` : `m:${promptText({ messages: what })}`;
    return hashString(`${model}\0${text}`);
  }

  private get(model: string, what: unknown[] | string): Uint32Array | undefined {
    const key = this.key(model, what);
    const t = this.cache.get(key);
    if (t !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, t);
    }
    return t;
  }

  private learn(
    model: string,
    what: { messages?: unknown[]; prompt?: string },
    endpoints: readonly Endpoint[],
  ): void {
    const key = this.key(model, what.messages ?? what.prompt ?? "");
    if (this.cache.has(key) || this.pending.has(key)) return;
    if (this.pending.size >= (this.o.maxInFlight ?? 4)) return;
    const now = this.o.clock.now();
    const pod = endpoints.find((e) => (this.failedUntil.get(e.name) ?? 0) <= now);
    if (pod === undefined) return;
    this.pending.add(key);
    this.stats.calls++;
    const body = what.messages
      ? { model, messages: what.messages, add_generation_prompt: false, add_special_tokens: false }
      : { model, prompt: what.prompt };
    const doFetch = this.o.fetch ?? fetch;
    doFetch(`http://${pod.address}/tokenize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    })
      .then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const answer = (await res.json()) as { tokens?: unknown };
        const tokens = answer.tokens;
        if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t) && t >= 0))
          throw new Error("the answer has no token list");
        this.put(key, Uint32Array.from(tokens as number[]));
        this.stats.learned++;
      })
      .catch((err: unknown) => {
        this.stats.failures++;
        this.failedUntil.set(pod.name, this.o.clock.now() + (this.o.retryMs ?? 5000));
        if (this.stats.failures === 1 || this.stats.failures % 1000 === 0)
          this.o.log?.(
            `precise-prefix-cache: ${pod.name} did not tokenize (${err instanceof Error ? err.message : String(err)}); its prompts score nothing until it does`,
          );
      })
      .finally(() => this.pending.delete(key));
  }

  private put(key: number, tokens: Uint32Array): void {
    const maxTokens = this.o.maxTokens ?? 8_000_000;
    if (tokens.length > maxTokens) return;
    this.cache.set(key, tokens);
    this.tokens += tokens.length;
    while (this.cache.size > (this.o.maxEntries ?? 10_000) || this.tokens > maxTokens) {
      const [oldest, t] = this.cache.entries().next().value as [number, Uint32Array];
      this.cache.delete(oldest);
      this.tokens -= t.length;
    }
  }
}
