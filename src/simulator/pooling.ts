/**
 * The pooling routes of a simulated vLLM pod (`runner: "pooling"`), in vLLM's formats:
 * POST /v1/embeddings (OpenAI's), /v1/score (and /score: `text_1`/`text_2`, also spelled
 * `data_1`/`data_2` or `queries`/`documents`), /v1/rerank (and /rerank, /v2/rerank:
 * Jina/Cohere-style `results[{index, document, relevance_score}]`), /pooling and /classify
 * (the embeddings body, vLLM's answers).
 *
 * Every input (or query/document pair) runs through the engine as its own prefill-only
 * request, as vLLM schedules a batch input, so it counts in the pod's metrics and load.
 */
import * as v from "valibot";
import { embed, relevance, toBase64, truncate } from "./embedding.ts";
import { SimError } from "./errors.ts";
import type { ResolvedOptions } from "./options.ts";
import { checkPromptFits, contentText, invalid, resolveModel } from "./parse.ts";
import { countTokens } from "./prefix-cache.ts";
import { brokenJson, type Plan, type RunContext, runAll } from "./respond.ts";
import type { Tokenizer } from "./tokenizer.ts";

export interface PoolingContext {
  options: ResolvedOptions;
  tokenizer: Tokenizer;
  run: RunContext;
}

const Model = { model: v.nullish(v.string()) };
const TokenIds = v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(0))), v.minLength(1));
const EmbeddingSchema = v.looseObject({
  ...Model,
  input: v.optional(
    v.union([
      v.string(),
      v.pipe(v.array(v.string()), v.minLength(1)),
      TokenIds,
      v.pipe(v.array(TokenIds), v.minLength(1)),
    ]),
  ),
  messages: v.optional(
    v.array(v.looseObject({ role: v.string(), content: v.nullish(v.union([v.string(), v.array(v.any())])) })),
  ),
  encoding_format: v.nullish(v.picklist(["float", "base64"])),
  dimensions: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

const Texts = v.union([v.string(), v.pipe(v.array(v.string()), v.minLength(1))]);
const ScoreSchema = v.looseObject({
  ...Model,
  text_1: v.optional(Texts),
  text_2: v.optional(Texts),
  data_1: v.optional(Texts),
  data_2: v.optional(Texts),
  queries: v.optional(Texts),
  documents: v.optional(Texts),
});

const Document = v.union([v.string(), v.looseObject({ text: v.string() })]);
const RerankSchema = v.looseObject({
  ...Model,
  query: v.string(),
  documents: v.pipe(v.array(Document), v.minLength(1)),
  top_n: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(0))),
  return_documents: v.nullish(v.boolean()),
});

function parse<S extends v.GenericSchema>(schema: S, body: unknown): v.InferOutput<S> {
  const r = v.safeParse(schema, body);
  if (!r.success) throw invalid(r.issues);
  return r.output;
}

interface Input {
  text: string;
  tokens: number;
}

function plan(o: ResolvedOptions, model: string, input: Input, param: string): Plan {
  checkPromptFits(o, input.tokens, param);
  return {
    adapter: model === o.model ? undefined : model,
    prompt: input.text,
    promptTokens: input.tokens,
    outputTokens: 0,
    finishReason: "stop",
  };
}

const text = (s: string): Input => ({ text: s, tokens: countTokens(s) });
const created = () => Math.floor(Date.now() / 1000);
const id = (prefix: string) => `${prefix}-${crypto.randomUUID().replaceAll("-", "")}`;
const usage = (tokens: number) => ({
  prompt_tokens: tokens,
  total_tokens: tokens,
  completion_tokens: 0,
  prompt_tokens_details: null,
});
const sum = (xs: readonly Input[]) => xs.reduce((n, x) => n + x.tokens, 0);

/** Runs the inputs; undefined when an injected fault broke the response (already answered). */
async function runInputs(c: PoolingContext, model: string, inputs: Input[], param: string) {
  const plans = inputs.map((input) => plan(c.options, model, input, param));
  const outcome = await runAll(c.run, plans);
  return outcome === "fault" ? undefined : outcome;
}

/**
 * POST /v1/embeddings, and vLLM's two routes that take the same body: /pooling (`data` of
 * `{object: "pooling", data: vector}`) and /classify (`{label, probs, num_classes}`: two
 * classes, softmax of the embedding's first two axes).
 */
export async function embeddings(
  c: PoolingContext,
  body: unknown,
  format: "embeddings" | "pooling" | "classify" = "embeddings",
): Promise<Response> {
  const b = parse(EmbeddingSchema, body);
  const o = c.options;
  const model = resolveModel(o, b.model);
  let inputs: Input[];
  if (b.messages !== undefined) {
    inputs = [text(b.messages.map((m) => `${m.role}\n${contentText(m.content)}\n`).join(""))];
  } else if (b.input === undefined) {
    throw new SimError(400, "input: either `input` or `messages` is required", "input");
  } else if (typeof b.input === "string") {
    inputs = [text(b.input)];
  } else if (typeof b.input[0] === "number") {
    const ids = b.input as number[];
    inputs = [{ text: decodeIds(c, ids), tokens: ids.length }];
  } else if (typeof b.input[0] === "string") {
    inputs = (b.input as string[]).map(text);
  } else {
    inputs = (b.input as number[][]).map((ids) => ({ text: decodeIds(c, ids), tokens: ids.length }));
  }
  const dims = b.dimensions ?? undefined;
  if (dims !== undefined && dims > o.embeddingSize) {
    throw new SimError(
      400,
      `dimensions: ${dims} is more than the model's embedding size (${o.embeddingSize}).`,
      "dimensions",
    );
  }
  if (!(await runInputs(c, model, inputs, "input"))) return brokenJson('{"id":"');
  const base64 = b.encoding_format === "base64";
  const data = inputs.map((input, index) => {
    const full = embed(input.text, o.embeddingSize);
    if (format === "classify") return { index, ...classes(full) };
    const vector = dims === undefined ? full : truncate(full, dims);
    const encoded = base64 ? toBase64(vector) : vector;
    return format === "pooling"
      ? { index, object: "pooling", data: encoded }
      : { index, object: "embedding", embedding: encoded };
  });
  return Response.json({
    id: id(format === "embeddings" ? "embd" : format === "pooling" ? "pool" : "classify"),
    object: "list",
    created: created(),
    model,
    data,
    usage: usage(sum(inputs)),
  });
}

/** Two classes: the softmax of the vector's first two axes, the likelier one as the label. */
function classes(vector: readonly number[]) {
  const [a = 0, b = 0] = vector;
  const ea = Math.exp(a);
  const eb = Math.exp(b);
  const probs = [ea / (ea + eb), eb / (ea + eb)];
  return { label: probs[0]! >= probs[1]! ? "LABEL_0" : "LABEL_1", probs, num_classes: 2 };
}

function decodeIds(c: PoolingContext, ids: number[]): string {
  try {
    return c.tokenizer.decode(ids);
  } catch (err) {
    throw new SimError(400, `input: ${(err as Error).message} is outside the vocabulary.`, "input");
  }
}

/** 1:1, 1:N or N:N pairs, as vLLM's score API accepts. */
function pairs(left: string | string[], right: string | string[]): Array<[string, string]> {
  const l = typeof left === "string" ? [left] : left;
  const r = typeof right === "string" ? [right] : right;
  if (l.length === 1) return r.map((x) => [l[0]!, x]);
  if (l.length !== r.length) {
    throw new SimError(
      400,
      `Input lengths must be either 1:1, 1:N or N:N, got ${l.length}:${r.length}.`,
      "text_2",
    );
  }
  return l.map((x, i) => [x, r[i]!]);
}

function scorePairs(c: PoolingContext, model: string, ps: Array<[string, string]>, param: string) {
  const size = c.options.embeddingSize;
  const inputs = ps.map(([q, d]) => text(`${q}\n${d}`));
  const scores = ps.map(([q, d]) => relevance(embed(q, size), embed(d, size)));
  return { inputs, scores, run: () => runInputs(c, model, inputs, param) };
}

export async function score(c: PoolingContext, body: unknown): Promise<Response> {
  const b = parse(ScoreSchema, body);
  const model = resolveModel(c.options, b.model);
  const left = b.text_1 ?? b.data_1 ?? b.queries;
  const right = b.text_2 ?? b.data_2 ?? b.documents;
  if (left === undefined || right === undefined) {
    throw new SimError(
      400,
      "text_1 and text_2 are required: the texts to score against each other.",
      "text_1",
    );
  }
  const s = scorePairs(c, model, pairs(left, right), "text_2");
  if (!(await s.run())) return brokenJson('{"id":"');
  const data = s.scores.map((value, index) => ({ index, object: "score", score: value }));
  return Response.json({
    id: id("score"),
    object: "list",
    created: created(),
    model,
    data,
    usage: usage(sum(s.inputs)),
  });
}

export async function rerank(c: PoolingContext, body: unknown): Promise<Response> {
  const b = parse(RerankSchema, body);
  const model = resolveModel(c.options, b.model);
  const docs = b.documents.map((d) => (typeof d === "string" ? d : d.text));
  const s = scorePairs(
    c,
    model,
    docs.map((d) => [b.query, d]),
    "documents",
  );
  if (!(await s.run())) return brokenJson('{"id":"');
  const ranked = s.scores
    .map((relevance_score, index) => ({
      index,
      ...(b.return_documents === false ? {} : { document: { text: docs[index]! } }),
      relevance_score,
    }))
    .sort((x, y) => y.relevance_score - x.relevance_score || x.index - y.index);
  const top = b.top_n ? ranked.slice(0, b.top_n) : ranked;
  return Response.json({
    id: id("rerank"),
    model,
    usage: { prompt_tokens: sum(s.inputs), total_tokens: sum(s.inputs) },
    results: top,
  });
}
