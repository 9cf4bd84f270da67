/** A non-success answer from the API server, carrying the `Status` object's code and reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Builds the error from a response, reading its `Status` body when there is one. */
  static async from(res: Response, what: string): Promise<ApiError> {
    let reason = res.statusText;
    let detail = "";
    try {
      const body = (await res.json()) as { reason?: unknown; message?: unknown };
      if (typeof body.reason === "string") reason = body.reason;
      if (typeof body.message === "string") detail = body.message;
    } catch {
      // not a Status object: the status line says enough
    }
    const hint =
      res.status === 401
        ? " (check the token in the kubeconfig or the service account)"
        : res.status === 403
          ? " (check the Role in deploy/rbac.yaml)"
          : "";
    return new ApiError(
      res.status,
      reason,
      `${what}: ${res.status} ${reason}${detail ? `: ${detail}` : ""}${hint}`,
    );
  }

  /** From an ERROR watch event's `Status` object. */
  static fromStatus(status: { code?: unknown; reason?: unknown; message?: unknown }, what: string): ApiError {
    const code = typeof status.code === "number" ? status.code : 500;
    const reason = typeof status.reason === "string" ? status.reason : "Unknown";
    const message = typeof status.message === "string" ? status.message : "";
    return new ApiError(
      code,
      reason,
      `${what}: ERROR event ${code} ${reason}${message ? `: ${message}` : ""}`,
    );
  }
}
