/**
 * The scheduler of a simulated vLLM pod: a FIFO waiting queue, at most `maxNumSeqs`
 * running sequences, timer-driven prefill and decode steps (see options.ts for the
 * latency formula), a prefix cache, KV-block accounting and LoRA slots.
 *
 * Admission walks the waiting queue in order and stops at the first request that does
 * not fit: no free slot, or its prompt's KV blocks exceed the free blocks (unless the
 * batch is empty). A request whose adapter cannot be loaded (`maxLoras` distinct
 * adapters already active) is skipped, not blocking the ones behind it, as in vLLM v1.
 *
 * A request with `outputTokens: 0` (pooling: embeddings, score, rerank) finishes right
 * after its prefill, as vLLM runs a pooling model: counted in prompt tokens, TTFT, E2E
 * and `request_success_total{finished_reason="stop"}`, with no generation tokens.
 *
 * KV blocks in use = sum over running of ceil((prompt + generated tokens) / blockSize);
 * cached blocks that no running request holds do not count.
 */
import { EngineCounters, type MetricsState } from "./metrics.ts";
import { jitterFactor, loadFactor, type ResolvedOptions } from "./options.ts";
import { blockHashes, PrefixCache } from "./prefix-cache.ts";
import type { AbortReason, GenerationRequest } from "./types.ts";

interface Seq {
  req: GenerationRequest;
  hashes: number[];
  arrivedAt: number;
  cachedTokens: number;
  generated: number;
  /** Cancels the pending prefill or decode step. */
  timer: (() => void) | undefined;
  state: "waiting" | "running" | "done";
}

export class Engine {
  private readonly waiting: Seq[] = [];
  private readonly running = new Set<Seq>();
  private readonly cache: PrefixCache;
  readonly counters = new EngineCounters();

  constructor(private readonly o: ResolvedOptions) {
    this.cache = new PrefixCache(o.numGpuBlocks);
  }

  /** Queues a request; returns its cancel function (idempotent, counts as aborted). */
  submit(req: GenerationRequest): () => void {
    const seq: Seq = {
      req,
      hashes: blockHashes(req.prompt, { model: req.adapter ?? this.o.model, blockSize: this.o.blockSize }),
      arrivedAt: this.o.clock.now(),
      cachedTokens: 0,
      generated: 0,
      timer: undefined,
      state: "waiting",
    };
    this.waiting.push(seq);
    this.schedule();
    return () => this.abort(seq, "cancelled");
  }

  /** Aborts every request and clears every timer. */
  close(): void {
    for (const seq of [...this.running, ...this.waiting]) this.abort(seq, "closed", false);
  }

  stats() {
    return {
      running: this.running.size,
      waiting: this.waiting.length,
      completed: this.counters.success.stop + this.counters.success.length,
      aborted: this.counters.success.abort,
      kvBlocksInUse: this.blocksInUse(),
      prefixHits: this.counters.prefixHits,
      prefixQueries: this.counters.prefixQueries,
    };
  }

  metricsState(nowSeconds: number): MetricsState {
    const o = this.o;
    const adapters = (seqs: Iterable<Seq>) =>
      [...new Set([...seqs].flatMap((s) => (s.req.adapter ? [s.req.adapter] : [])))].sort();
    return {
      model: o.model,
      running: this.running.size,
      waiting: this.waiting.length,
      kvUsage: Math.min(1, this.blocksInUse() / o.numGpuBlocks),
      legacyKvMetric: o.legacyKvMetric,
      blockSize: o.blockSize,
      numGpuBlocks: o.numGpuBlocks,
      lora: o.loras.length
        ? { maxLoras: o.maxLoras, running: adapters(this.running), waiting: adapters(this.waiting) }
        : undefined,
      counters: this.counters,
      nowSeconds,
    };
  }

  private blocksInUse(): number {
    let n = 0;
    for (const s of this.running) n += Math.ceil((s.req.promptTokens + s.generated) / this.o.blockSize);
    return n;
  }

  private schedule(): void {
    const active = new Set<string>();
    for (const s of this.running) if (s.req.adapter) active.add(s.req.adapter);
    for (let i = 0; i < this.waiting.length && this.running.size < this.o.maxNumSeqs; ) {
      const seq = this.waiting[i]!;
      const adapter = seq.req.adapter;
      if (adapter && !active.has(adapter) && active.size >= this.o.maxLoras) {
        i++;
        continue;
      }
      const needed = Math.ceil(seq.req.promptTokens / this.o.blockSize);
      if (this.running.size > 0 && needed > this.o.numGpuBlocks - this.blocksInUse()) break;
      this.waiting.splice(i, 1);
      if (adapter) active.add(adapter);
      this.start(seq);
    }
  }

  /** Duration of one step of `ms` simulated milliseconds under the current load. */
  private scaled(ms: number): number {
    const o = this.o;
    return ms * loadFactor(this.running.size, o) * jitterFactor(o.jitter, o.random) * o.timeScale;
  }

  private start(seq: Seq): void {
    const { o, cache } = this;
    seq.state = "running";
    this.running.add(seq);
    let matched = cache.match(seq.hashes);
    // Like vLLM, never serve the whole prompt from cache: the last token must be computed.
    if (matched * o.blockSize >= seq.req.promptTokens) matched = Math.max(0, matched - 1);
    seq.cachedTokens = matched * o.blockSize;
    this.counters.prefixQueries += seq.req.promptTokens;
    this.counters.prefixHits += seq.cachedTokens;
    const prefillMs = o.prefillOverheadMs + (seq.req.promptTokens - seq.cachedTokens) * o.prefillMsPerToken;
    seq.timer = this.o.setTimer(() => {
      cache.insert(seq.hashes);
      this.counters.promptTokens += seq.req.promptTokens;
      this.counters.ttft.observe((o.clock.now() - seq.arrivedAt) / 1000);
      // A pooling request (embeddings, score, rerank) is prefill only: it ends here.
      if (seq.req.outputTokens === 0) this.finish(seq);
      else this.step(seq);
    }, this.scaled(prefillMs));
  }

  /** Emits the next token, then finishes or schedules the following step. */
  private step(seq: Seq): void {
    seq.timer = undefined;
    seq.generated++;
    this.counters.generationTokens++;
    seq.req.sink.onToken(seq.generated - 1, seq.cachedTokens);
    if (seq.state !== "running") return; // the sink cancelled it
    const { breakAfterTokens } = seq.req;
    if (breakAfterTokens !== undefined && seq.generated >= breakAfterTokens) {
      this.abort(seq, "fault");
    } else if (seq.generated >= seq.req.outputTokens) {
      this.finish(seq);
    } else {
      seq.timer = this.o.setTimer(() => this.step(seq), this.scaled(this.o.interTokenMs));
    }
  }

  private finish(seq: Seq): void {
    seq.state = "done";
    this.running.delete(seq);
    this.counters.success[seq.req.finishReason]++;
    this.counters.e2e.observe((this.o.clock.now() - seq.arrivedAt) / 1000);
    seq.req.sink.onFinish({
      promptTokens: seq.req.promptTokens,
      cachedTokens: seq.cachedTokens,
      completionTokens: seq.generated,
      finishReason: seq.req.finishReason,
    });
    this.schedule();
  }

  private abort(seq: Seq, reason: AbortReason, reschedule = true): void {
    if (seq.state === "done") return;
    seq.timer?.();
    seq.timer = undefined;
    if (seq.state === "waiting") this.waiting.splice(this.waiting.indexOf(seq), 1);
    else this.running.delete(seq);
    seq.state = "done";
    this.counters.success.abort++;
    seq.req.sink.onAbort(reason);
    if (reschedule) this.schedule();
  }
}
