import { watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { type SetTimer, systemTimer } from "../clock.ts";

/**
 * What the receiver of a settled text answers: nothing (taken, or refused for good), or
 * `{ confirmAfterMs }` to see the same text again once it has stayed unchanged that much
 * longer (a reload that would remove auth or every endpoint wants a stable file).
 */
export type SettledAnswer = undefined | { confirmAfterMs: number };

/** Receives a file's text once it has settled; `stableForMs` is how long it has read the same. */
export type OnSettled = (text: string, stableForMs: number) => SettledAnswer | Promise<SettledAnswer>;

export interface SettleOptions {
  /** The file must read the same for this long before it is reported. Default 500 ms. */
  settleMs?: number;
  setTimer?: SetTimer;
}

/** Default settle time: long enough for a writer that pauses mid-file, short for a person. */
export const DEFAULT_SETTLE_MS = 500;

/**
 * Turns "the file may have changed" signals into settled texts: after a change, the file is
 * read every `settleMs` until two reads in a row agree, and only then reported, so a writer
 * that pauses mid-file (a half-written `auth:` block) is never loaded. Text already reported
 * is not reported again. `read` gives undefined while the file is missing.
 */
export function settledText(
  read: () => Promise<string | undefined>,
  onText: OnSettled,
  opts: SettleOptions = {},
): { changed(): void; prime(text: string): void; stop(): void } {
  const settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
  const setTimer = opts.setTimer ?? systemTimer;
  let reported: string | undefined;
  let candidate: string | undefined;
  let stableForMs = 0;
  let cancel: (() => void) | undefined;
  let stopped = false;
  let generation = 0;

  const arm = (ms: number) => {
    cancel?.();
    const mine = ++generation;
    cancel = setTimer(() => void check(mine, ms), ms);
  };

  async function check(mine: number, waited: number): Promise<void> {
    const text = await read();
    if (stopped || mine !== generation) return; // a newer change took over
    if (text === undefined) return; // gone (mid-rename): the next event brings it back
    if (text !== candidate) {
      candidate = text;
      stableForMs = 0;
      arm(settleMs);
      return;
    }
    stableForMs += waited;
    if (text === reported) return;
    const answer = await onText(text, stableForMs);
    if (stopped || mine !== generation) return;
    if (answer && answer.confirmAfterMs > 0) arm(answer.confirmAfterMs);
    else reported = text;
  }

  return {
    changed() {
      if (stopped) return;
      candidate = undefined;
      stableForMs = 0;
      arm(settleMs);
    },
    prime(text) {
      reported ??= text;
    },
    stop() {
      stopped = true;
      cancel?.();
    },
  };
}

/**
 * Calls `onText` with the file's new content once it has settled (see settledText).
 * Watches the folder, not the file, because editors replace files by rename and a
 * Kubernetes ConfigMap update swaps the `..data` symlink.
 */
export function watchConfigFile(
  file: string,
  onText: OnSettled,
  opts: SettleOptions & {
    /** The text the running config was loaded from; a file that differs already is reported. */
    loadedText?: string;
  } = {},
): () => void {
  const read = () => readFile(file, "utf8").catch(() => undefined);
  const settled = settledText(read, onText, opts);
  if (opts.loadedText !== undefined) {
    settled.prime(opts.loadedText);
    settled.changed(); // catches an edit made between loading and watching
  } else
    void read().then((t) => {
      if (t !== undefined) settled.prime(t);
    });
  const name = basename(file);
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed && changed !== name && !String(changed).startsWith("..data")) return;
    settled.changed();
  });
  return () => {
    settled.stop();
    watcher.close();
  };
}
