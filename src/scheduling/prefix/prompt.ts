/**
 * The text the approximate prefix index hashes for a request: a stable, cheap
 * stand-in for the prompt the model server will tokenize. Only its stability matters
 * (the same request prefix must give the same text, on every gateway replica), not its
 * likeness to the engine's chat template.
 *
 * Serialization:
 * - Chat (`messages`): for each message, in order, `role + "\n" + content + "\n"`, where
 *   content is the string content; or, for a list of content parts, each `text` part's
 *   text and each other part as `[type]` + JSON of its payload (`part[type]`, e.g. the
 *   image URL object), joined by "\n". A message's `tool_calls` are appended as JSON.
 *   Unknown shapes degrade to JSON rather than being dropped, so two different requests
 *   do not collapse to the same text.
 * - Completions (`prompt`): a string as is; a list of strings joined by "\n"; token ids
 *   as decimal numbers joined by ","; a list of token-id lists joined by "\n".
 * - Otherwise `input` when it is a string (embeddings, responses), else "".
 */
export function promptText(body: Readonly<Record<string, unknown>>): string {
  const messages = body["messages"];
  if (Array.isArray(messages)) return chatText(messages);
  const prompt = body["prompt"];
  if (prompt !== undefined) return completionText(prompt);
  const input = body["input"];
  return typeof input === "string" ? input : "";
}

function chatText(messages: readonly unknown[]): string {
  let out = "";
  for (const m of messages) {
    if (m === null || typeof m !== "object") {
      out += `${JSON.stringify(m)}\n`;
      continue;
    }
    const msg = m as Record<string, unknown>;
    const role = typeof msg["role"] === "string" ? msg["role"] : "";
    out += `${role}\n${contentText(msg["content"])}\n`;
    const calls = msg["tool_calls"];
    if (calls !== undefined && calls !== null) out += `${JSON.stringify(calls)}\n`;
  }
  return out;
}

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
    if (type === "text" && typeof p["text"] === "string") parts.push(p["text"]);
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
