import type { ApiKind } from "../../request.ts";

/**
 * The text the approximate prefix index hashes for a request: a stable, cheap
 * stand-in for the prompt the model server will tokenize. Only its stability matters
 * (the same request prefix must give the same text, on every gateway replica), not its
 * likeness to the engine's chat template.
 *
 * Serialization, by API (`kind`):
 * - chat (`messages`): for each message, in order, `role + "\n" + content + "\n"`, where
 *   content is the string content; or, for a list of content parts, each text part's
 *   text (`text`, `input_text`, `output_text`) and each other part as `[type]` + JSON of
 *   its payload (`part[type]`, e.g. the image URL object, else the whole part), joined by
 *   "\n". A message's `tool_calls` are appended as JSON. Unknown shapes degrade to JSON
 *   rather than being dropped, so two different requests do not collapse to one text.
 * - completions (`prompt`): a string as is; a list of strings joined by "\n"; token ids
 *   as decimal numbers joined by ","; a list of token-id lists joined by "\n".
 * - responses: `instructions` as a system message, then `input`: a string as a user
 *   message; a list of items each as a chat message when it has a role, else as JSON
 *   (function calls and their outputs, reasoning). A later turn extends an earlier one.
 * - messages (Anthropic): `system` (string or blocks) as a system message, then
 *   `messages` as chat (content blocks as content parts).
 * - embeddings: `input` as a string, or a list of strings joined by "\n"; token ids give
 *   no text (""); vLLM's chat-style `messages` as chat.
 * - rerank, score, tokenize, detokenize, transcriptions: "" (no prompt worth caching on
 *   one pod: the prefix scorer then scores every pod alike).
 * - no kind (callers that do not know the API): chat when `messages` is a list (with
 *   Anthropic's `system` first when present), else completions when `prompt` is set, else
 *   `input` when it is a string, else "".
 *
 * `limit` bounds the work: the result is the first `limit` characters of the full text,
 * and serialization stops once they are known (the hasher reads at most blocks x block size).
 */
export function promptText(
  body: Readonly<Record<string, unknown>>,
  kind?: ApiKind,
  limit = Infinity,
): string {
  return serialize(body, kind, new Text(limit, false)).text();
}

/**
 * The first `limit` characters of `promptText(body, kind)` and the whole text's length,
 * without building the whole text: the prefix hashes read only their window (256 blocks
 * of 64 characters). Under Bun, a 32k-character string per decision cost ~80 µs while a
 * large prefix index was live: the bigger heap defers GC, so each new string lands on
 * fresh pages (page faults), measured outside the gateway.
 */
export function promptPrefix(
  body: Readonly<Record<string, unknown>>,
  kind: ApiKind | undefined,
  limit: number,
): { text: string; length: number } {
  const out = serialize(body, kind, new Text(limit, true));
  return { text: out.text(), length: out.total };
}

/** As `promptPrefix`, the text left in its pieces (mostly the request's own strings; `hashPrefix` takes them). */
export function promptParts(
  body: Readonly<Record<string, unknown>>,
  kind: ApiKind | undefined,
  limit: number,
): { parts: readonly string[]; length: number } {
  const out = serialize(body, kind, new Text(limit, true));
  return { parts: out.parts, length: out.total };
}

function serialize(body: Readonly<Record<string, unknown>>, kind: ApiKind | undefined, out: Text): Text {
  switch (kind) {
    case undefined:
      untyped(body, out);
      break;
    case "chat":
      chat(body["messages"], out);
      break;
    case "completions":
      out.add(completionText(body["prompt"]));
      break;
    case "responses":
      responses(body, out);
      break;
    case "messages":
      anthropic(body, out);
      break;
    case "embeddings":
      if (Array.isArray(body["messages"])) chat(body["messages"], out);
      else out.add(embeddingText(body["input"]));
      break;
    default:
      break;
  }
  return out;
}

/**
 * A string builder that stops growing once it holds `limit` characters. Counting, it
 * still measures what follows (`total`: the whole text's length) and never reports
 * itself full, so serialization goes to the end.
 */
class Text {
  readonly parts: string[] = [];
  private length = 0;
  /** Characters added in all, kept or not. */
  total = 0;
  constructor(
    private readonly limit: number,
    private readonly counting: boolean,
  ) {}
  get full(): boolean {
    return !this.counting && this.length >= this.limit;
  }
  add(s: string): void {
    this.total += s.length;
    const room = this.limit - this.length;
    if (room <= 0) return;
    // Only the part that fits: joining a whole long message and then cutting it would
    // build the long string anyway.
    const kept = s.length > room ? s.slice(0, room) : s;
    this.parts.push(kept);
    this.length += kept.length;
  }
  text(): string {
    return this.parts.join("");
  }
}

function untyped(body: Readonly<Record<string, unknown>>, out: Text): void {
  const messages = body["messages"];
  const prompt = body["prompt"];
  const input = body["input"];
  if (Array.isArray(messages)) anthropic(body, out);
  else if (prompt !== undefined) out.add(completionText(prompt));
  else if (typeof input === "string") out.add(input);
}

function message(role: string, content: unknown, out: Text): void {
  out.add(`${role}\n`);
  out.add(contentText(content));
  out.add("\n");
}

function chat(messages: unknown, out: Text): void {
  if (!Array.isArray(messages)) return;
  for (const m of messages) {
    if (out.full) return;
    if (m === null || typeof m !== "object") {
      out.add(`${JSON.stringify(m)}\n`);
      continue;
    }
    const msg = m as Record<string, unknown>;
    message(typeof msg["role"] === "string" ? msg["role"] : "", msg["content"], out);
    const calls = msg["tool_calls"];
    if (calls !== undefined && calls !== null) out.add(`${JSON.stringify(calls)}\n`);
  }
}

function anthropic(body: Readonly<Record<string, unknown>>, out: Text): void {
  const system = body["system"];
  if (system !== undefined && system !== null) message("system", system, out);
  chat(body["messages"], out);
}

function responses(body: Readonly<Record<string, unknown>>, out: Text): void {
  const instructions = body["instructions"];
  if (typeof instructions === "string") message("system", instructions, out);
  const input = body["input"];
  if (typeof input === "string") message("user", input, out);
  if (!Array.isArray(input)) return;
  for (const item of input) {
    if (out.full) return;
    const i = item as Record<string, unknown> | null;
    if (i !== null && typeof i === "object" && typeof i["role"] === "string")
      message(i["role"], i["content"], out);
    else out.add(`${JSON.stringify(item)}\n`);
  }
}

const TEXT_PARTS = new Set(["text", "input_text", "output_text"]);

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (content === undefined || content === null) return "";
  if (!Array.isArray(content)) return JSON.stringify(content);
  const parts: string[] = [];
  for (const part of content) {
    if (part === null || typeof part !== "object") {
      parts.push(JSON.stringify(part));
      continue;
    }
    const p = part as Record<string, unknown>;
    const type = typeof p["type"] === "string" ? p["type"] : "";
    if (TEXT_PARTS.has(type) && typeof p["text"] === "string") parts.push(p["text"]);
    else parts.push(`[${type}]${JSON.stringify(p[type] ?? p)}`);
  }
  return parts.join("\n");
}

function completionText(prompt: unknown): string {
  if (typeof prompt === "string") return prompt;
  if (!Array.isArray(prompt)) return JSON.stringify(prompt) ?? "";
  if (prompt.every((x) => typeof x === "number")) return prompt.join(",");
  return prompt.map((x) => (typeof x === "string" ? x : Array.isArray(x) ? x.join(",") : "")).join("\n");
}

function embeddingText(input: unknown): string {
  if (typeof input === "string") return input;
  if (Array.isArray(input) && input.every((x) => typeof x === "string")) return input.join("\n");
  return "";
}
