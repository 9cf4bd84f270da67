/**
 * The simulator's one error type. Route handlers throw it; `app.onError` turns it into
 * the status and OpenAI error body (`{"error":{"message","type","param","code"}}`).
 */
export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "SimError";
  }

  get type(): string {
    if (this.status < 500) return "invalid_request_error";
    return this.status === 503 ? "service_unavailable" : "server_error";
  }
}
