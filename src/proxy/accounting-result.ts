/** What a tap learns of an answer (accounting.ts, json-accounting.ts), one shape for both. */
import type { Usage } from "./usage.ts";

export interface AccountingResult {
  /** Clock time of the first non-empty content frame (undefined: none seen). */
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
  /** Content frames seen: a token count when the pod reports no usage. */
  contentEvents: number;
  /** Largest gap between two content frames (ms). */
  maxInterTokenMs: number;
  usage: Usage | undefined;
  responseBytes: number;
  /** Responses API: the id the pod gave the response (`previous_response_id` must go back to it). */
  responseId: string | undefined;
}

export const emptyResult = (): AccountingResult => ({
  firstTokenAt: undefined,
  lastTokenAt: undefined,
  contentEvents: 0,
  maxInterTokenMs: 0,
  usage: undefined,
  responseBytes: 0,
  responseId: undefined,
});
