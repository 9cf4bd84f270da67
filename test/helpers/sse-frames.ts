/**
 * An OpenAI chat-completion event stream's ordinary frames, as a pod (vLLM) sends them: content
 * chunks (`chat.completion.chunk`), the usage chunk the gateway asks for, `data: [DONE]`, each
 * closed by a blank line (`\n\n`, or `\r\n\r\n`). For tests whose frames are the usual ones;
 * a test where the exact bytes are the point (a dialect, odd framing, a frame cut at a given
 * byte) writes its own.
 */

/** The line end a stream's frames use. */
export type Eol = "\n" | "\r\n";

/** Token counts as a chat completion's `usage` carries them. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

/** The usage of the streams below unless a test gives its own: 3 prompt tokens, 2 generated. */
export const USAGE: Usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };

/** One frame: `data: ` and `obj` as JSON, then a blank line. */
export const frame = (obj: unknown, eol: Eol = "\n"): string => `data: ${JSON.stringify(obj)}${eol}${eol}`;

/** A chat chunk of model `m` with `choices`, and `usage` when given. */
const chunk = (choices: unknown[], eol: Eol, usage?: Usage): string =>
  frame({ id: "c", object: "chat.completion.chunk", model: "m", choices, ...(usage ? { usage } : {}) }, eol);

/** A chunk of generated text. */
export const contentFrame = (content: string, eol: Eol = "\n"): string =>
  chunk([{ index: 0, delta: { content } }], eol);

/** The stream's first chunk: the assistant's role, no text (not a content frame). */
export const roleFrame = (eol: Eol = "\n"): string =>
  chunk([{ index: 0, delta: { role: "assistant", content: "" } }], eol);

/** The usage chunk (no choices), as a pod sends it when asked to include usage. */
export const usageFrame = (usage: Usage = USAGE, eol: Eol = "\n"): string => chunk([], eol, usage);

/** The stream's last event. */
export const doneFrame = (eol: Eol = "\n"): string => `data: [DONE]${eol}${eol}`;
export const DONE = doneFrame();

export interface ChatStreamOptions {
  /** A usage chunk after the content (`usageFrame(usage)`); none when not given. */
  usage?: Usage;
  eol?: Eol;
}

/**
 * A whole chat stream: a content frame for each of `contents` (or `n` frames of " tok"), the
 * usage frame when `usage` is given, then `[DONE]`.
 */
export function chatStream(contents: number | readonly string[], options: ChatStreamOptions = {}): string {
  const eol = options.eol ?? "\n";
  const texts = typeof contents === "number" ? Array.from({ length: contents }, () => " tok") : contents;
  return (
    texts.map((t) => contentFrame(t, eol)).join("") +
    (options.usage ? usageFrame(options.usage, eol) : "") +
    doneFrame(eol)
  );
}
