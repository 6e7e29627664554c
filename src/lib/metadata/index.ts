/** User metadata, names and metadata filters: limits, request schemas, and the reference evaluator. */
export {
  METADATA_KEY,
  METADATA_LIMITS,
  MetadataPatchSchema,
  MetadataSchema,
  NameSchema,
  isWellFormedText,
  mergeMetadata,
} from "./schema.js";
export { FILTER_LIMITS, MetadataFilterSchema, parseMetadataFilter } from "./filter-schema.js";
export { matchesMetadata } from "./filter-eval.js";
export { parseDateTime } from "./dates.js";
