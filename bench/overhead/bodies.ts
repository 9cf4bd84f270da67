/** The overhead benchmark's request bodies (run.ts sends them; body-micro.ts times their handling). */

export const SMALL = {
  model: "m",
  messages: [{ role: "user", content: "Hello, how are you today? Please answer briefly." }],
  max_tokens: 16,
};

/** A chat body of `bytes` bytes of JSON in all: SMALL with one long user message of words and numbers. */
export function bigBody(bytes: number) {
  const words = [
    "context",
    "tokens",
    "prefix",
    "cache",
    "pod",
    "gateway",
    "stream",
    "model",
    "batch",
    "queue",
  ];
  const base = JSON.stringify({ ...SMALL, messages: [{ role: "user", content: "" }] }).length;
  let text = "";
  for (let i = 0; text.length < bytes - base; i++) text += `${words[i % words.length]} ${i} `;
  return { ...SMALL, messages: [{ role: "user", content: text.slice(0, bytes - base) }] };
}
