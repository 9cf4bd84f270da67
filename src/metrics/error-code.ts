/**
 * The `error_code` label as GIE v1.5.0 sets it: a model server's own non-2xx status as
 * its number ("400", "500"), and an error the gateway answered itself as GIE's canonical
 * code (`pkg/common/error`: BadRequest, InferencePoolResourceExhausted, ServiceUnavailable,
 * ModelServerError, Internal), so dashboards that split by code see upstream's values.
 */
export function errorCode(status: number, fromModelServer: boolean): string {
  if (fromModelServer) return String(status);
  if (status === 429) return "InferencePoolResourceExhausted";
  if (status === 503) return "ServiceUnavailable";
  if (status === 502 || status === 504) return "ModelServerError";
  if (status >= 400 && status < 500) return "BadRequest";
  return "Internal";
}
