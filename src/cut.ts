/**
 * Cutting client-supplied strings (model names, ids) to a bounded size, as strings of
 * their own.
 *
 * `slice` in JavaScript engines returns a view on the original (JSC substrings, V8
 * sliced strings), so a 256-character cut of a 1 MiB model name kept in the dashboard's
 * ring of recent requests keeps the whole megabyte alive: 500 of them held 500 MiB.
 * Copying the cut through TextEncoder/TextDecoder (on every runtime, including Workers)
 * gives a string that owns only its own characters.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The first `max` characters of `text` as a fresh string, then `suffix`; `text` itself when short enough. */
export function cut(text: string, max: number, suffix = "…"): string {
  if (text.length <= max) return text;
  return decoder.decode(encoder.encode(text.slice(0, max))) + suffix;
}
