export { parseRewrite } from "./parse.ts";
export {
  DEFAULT_NAMESPACE,
  DEFAULT_POOL_GROUP,
  DEFAULT_POOL_KIND,
  type InferenceModelRewrite,
  type InferenceModelRewriteInput,
  InferenceModelRewriteSchema,
  MAX_WEIGHT,
  MIN_WEIGHT,
  REWRITE_API_VERSIONS,
  REWRITE_KIND,
  type RewriteRule,
  type RewriteTarget,
} from "./schema.ts";
export { type RewriteAlias, type RewriteDecision, RewriteTable } from "./table.ts";
export { checkRewrite, resourceLabel } from "./validate.ts";
