/**
 * User metadata on Qdrant (docs/search.md#filters). It lives under one payload key, `metadata`, so a
 * user key can never address or overwrite a field of ours (`tenant`, `image_id`, …): a user filter is
 * Qdrant's own syntax with each key rewritten to `metadata.<key>` (keys are identifiers, so the path
 * is exactly one level down), and always nested inside the tenant filter. The image's name is the
 * payload key `name`. `PATCH /v1/images/{id}` is one `set_payload` over the image's points: it
 * replaces the top-level `name` and `metadata` values, vectors untouched.
 */
import type { Schemas } from "@qdrant/js-client-rest";
import { dateBounds, isDateRange } from "../../metadata/filter-eval.js";
import type { ImageFields, MetadataCondition, MetadataFilter, RangeBounds } from "../types.js";

type Condition = Schemas["Condition"];

export const METADATA_PAYLOAD_KEY = "metadata";
export const NAME_PAYLOAD_KEY = "name";

const path = (key: string): string => `${METADATA_PAYLOAD_KEY}.${key}`;

/** Date bounds go out as RFC 3339 UTC, the form every Qdrant version parses. */
function rangeOf(range: RangeBounds): Schemas["Range"] | Schemas["DatetimeRange"] {
  if (!isDateRange(range)) return { ...(range as RangeBounds<number>) };
  const ms = dateBounds(range);
  const out: Schemas["DatetimeRange"] = {};
  for (const op of ["gt", "gte", "lt", "lte"] as const)
    if (ms[op] !== undefined) out[op] = new Date(ms[op]).toISOString();
  return out;
}

function toCondition(c: MetadataCondition): Condition {
  if ("is_empty" in c) return { is_empty: { key: path(c.is_empty.key) } };
  if ("is_null" in c) return { is_null: { key: path(c.is_null.key) } };
  if (!("key" in c)) return toQdrantFilter(c);
  if ("range" in c) return { key: path(c.key), range: rangeOf(c.range) };
  return { key: path(c.key), match: c.match };
}

/** A validated metadata filter → a Qdrant filter over `metadata.*` (to nest inside the tenant filter). */
export function toQdrantFilter(f: MetadataFilter): Schemas["Filter"] {
  const out: Schemas["Filter"] = {};
  if (f.must) out.must = f.must.map(toCondition);
  if (f.should) out.should = f.should.map(toCondition);
  if (f.must_not) out.must_not = f.must_not.map(toCondition);
  return out;
}

/** The `set_payload` body of a PATCH, minus the filter: a removed name is stored as null. */
export function imageFieldsPayload(fields: ImageFields): Record<string, unknown> {
  return { [NAME_PAYLOAD_KEY]: fields.name ?? null, [METADATA_PAYLOAD_KEY]: fields.metadata };
}

/** The declared metadata index types (`METADATA_INDEXES`) and Qdrant's payload schema for each. */
export const METADATA_INDEX_TYPES = {
  keyword: "keyword",
  integer: "integer",
  float: "float",
  bool: "bool",
  datetime: "datetime",
} as const satisfies Record<string, Schemas["PayloadSchemaType"]>;

export type MetadataIndexType = keyof typeof METADATA_INDEX_TYPES;

export interface MetadataIndex {
  key: string;
  type: MetadataIndexType;
}

/** Payload indexes for the declared keys, on their `metadata.<key>` paths. */
export function metadataPayloadIndexes(
  indexes: readonly MetadataIndex[] = [],
): { field: string; schema: Schemas["PayloadFieldSchema"] }[] {
  return indexes.map((i) => ({ field: path(i.key), schema: METADATA_INDEX_TYPES[i.type] }));
}
