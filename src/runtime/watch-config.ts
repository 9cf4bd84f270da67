import { watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";

/**
 * Calls `onText` with the file's new content after it changes. Watches the folder,
 * not the file, because editors and ConfigMap updates replace files by rename.
 * Debounced; unchanged content is not reported.
 */
export function watchConfigFile(file: string, onText: (text: string) => void, debounceMs = 100): () => void {
  let last: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  void readFile(file, "utf8").then(
    (t) => {
      last ??= t;
    },
    () => {},
  );
  const name = basename(file);
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed && changed !== name && !String(changed).startsWith("..data")) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = await readFile(file, "utf8").catch(() => undefined);
      if (text === undefined || text === last) return;
      last = text;
      onText(text);
    }, debounceMs);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
