/**
 * User metadata in the embedded store (docs/search.md#filters). LanceDB filters are SQL strings, so
 * metadata is kept as typed columns a filter can read without parsing JSON per row, and every
 * caller value reaches SQL only as a quoted string literal or a cast of a finite number:
 *
 * - `name`, `metadata`: the image's name and metadata object as given (JSON), for reading back;
 * - `meta_terms` (list of strings): one term per matchable value, `key␀s␀text` (each string and
 *   array item), `key␀i␀123` (safe integers), `key␀b␀true`, plus `key␀` for every key holding a value
 *   (not an empty array). Keys are identifiers, so a term's key part is unambiguous. `match` is
 *   `array_has` / `array_has_any` on it;
 * - `meta_num_keys` / `meta_num_vals` (parallel lists): each number under its key, and each string
 *   value that is a date-time under `key␀d` as epoch milliseconds. `range` reads the value at the
 *   key's position.
 *
 * LanceDB 0.31's JSON functions need a JSONB (LargeBinary) column its JS SDK cannot write; a JSON
 * string filtered in JavaScript after the search would starve the top-k. Every leaf is wrapped in
 * COALESCE(…, false) so a missing key (NULL) reads as "no match", as in Qdrant, also under NOT.
 */
import { Field, Float64, List, Utf8 } from "apache-arrow";
import type * as lancedb from "@lancedb/lancedb";
import { parseDateTime } from "../../lib/metadata/dates.js";
import { dateBounds, isDateRange } from "../../lib/metadata/filter-eval.js";
import type {
  ImageFields,
  Metadata,
  MetadataCondition,
  MetadataFilter,
  RangeBounds,
} from "../../lib/store/types.js";

const SEP = "\u0000";

/** The metadata columns of a row (all nullable: rows written before metadata existed hold NULL). */
export interface MetadataColumns {
  name: string | null;
  metadata: string | null;
  meta_terms: string[];
  meta_num_keys: string[];
  meta_num_vals: number[];
}

const list = (type: Utf8 | Float64) => new List(new Field("item", type, true));

export const METADATA_FIELDS = [
  new Field("name", new Utf8(), true),
  new Field("metadata", new Utf8(), true),
  new Field("meta_terms", list(new Utf8()), true),
  new Field("meta_num_keys", list(new Utf8()), true),
  new Field("meta_num_vals", list(new Float64()), true),
];

const presenceTerm = (key: string): string => `${key}${SEP}`;

function valueTerm(key: string, v: string | number | boolean): string | null {
  if (typeof v === "string") return `${key}${SEP}s${SEP}${v}`;
  if (typeof v === "boolean") return `${key}${SEP}b${SEP}${v}`;
  return Number.isSafeInteger(v) ? `${key}${SEP}i${SEP}${v}` : null;
}

export function metadataColumns(
  fields: ImageFields | { name?: string; metadata?: Metadata },
): MetadataColumns {
  const metadata = fields.metadata ?? {};
  const terms: string[] = [];
  const numKeys: string[] = [];
  const numVals: number[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    const items = Array.isArray(value) ? value : [value];
    if (items.length > 0) terms.push(presenceTerm(key));
    for (const item of items) {
      const term = valueTerm(key, item);
      if (term !== null) terms.push(term);
    }
    if (typeof value === "number") {
      numKeys.push(key);
      numVals.push(value);
    } else if (typeof value === "string") {
      const t = parseDateTime(value);
      if (t !== null) {
        numKeys.push(`${key}${SEP}d`);
        numVals.push(t);
      }
    }
  }
  return {
    name: fields.name ?? null,
    metadata: fields.metadata === undefined ? null : JSON.stringify(metadata),
    meta_terms: terms,
    meta_num_keys: numKeys,
    meta_num_vals: numVals,
  };
}

/** A SQL string literal: the value between single quotes, each quote doubled (no other escapes exist). */
export function sqlLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function sqlDouble(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return `CAST(${sqlLiteral(String(value))} AS DOUBLE)`;
}

const COMPARE = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

function rangeSql(key: string, range: RangeBounds): string {
  const dates = isDateRange(range);
  const bounds = dates ? dateBounds(range) : (range as RangeBounds<number>);
  const slot = dates ? `${key}${SEP}d` : key;
  const value = `array_element(meta_num_vals, CAST(array_position(meta_num_keys, ${sqlLiteral(slot)}) AS BIGINT))`;
  const parts = (Object.keys(COMPARE) as (keyof typeof COMPARE)[])
    .filter((op) => bounds[op] !== undefined)
    .map((op) => `${value} ${COMPARE[op]} ${sqlDouble(bounds[op]!)}`);
  return `COALESCE(${parts.join(" AND ")}, false)`;
}

function conditionSql(c: MetadataCondition): string {
  if ("is_empty" in c)
    return `NOT COALESCE(array_has(meta_terms, ${sqlLiteral(presenceTerm(c.is_empty.key))}), false)`;
  if ("is_null" in c) return "false";
  if (!("key" in c)) return `(${metadataFilterSql(c)})`;
  if ("range" in c) return rangeSql(c.key, c.range);
  const values = "value" in c.match ? [c.match.value] : (c.match.any as (string | number)[]);
  const terms = values.map((v) => valueTerm(c.key, v)).filter((t): t is string => t !== null);
  if (terms.length === 0) return "false";
  if (terms.length === 1) return `COALESCE(array_has(meta_terms, ${sqlLiteral(terms[0]!)}), false)`;
  return `COALESCE(array_has_any(meta_terms, make_array(${terms.map(sqlLiteral).join(", ")})), false)`;
}

/** A validated filter (src/lib/metadata/filter-schema.ts) as a SQL predicate. */
export function metadataFilterSql(f: MetadataFilter): string {
  const parts: string[] = [];
  if (f.must?.length) parts.push(...f.must.map(conditionSql));
  if (f.should?.length) parts.push(`(${f.should.map(conditionSql).join(" OR ")})`);
  if (f.must_not?.length) parts.push(`NOT (${f.must_not.map(conditionSql).join(" OR ")})`);
  return parts.length ? parts.join(" AND ") : "true";
}

function listSql(items: readonly string[], type: "Utf8" | "Float64"): string {
  if (items.length === 0) return `arrow_cast(make_array(), 'List(${type})')`;
  return `make_array(${items.join(", ")})`;
}

/** `update` values (SQL) replacing an image's metadata columns (PATCH without re-embedding). */
export function metadataUpdateSql(fields: ImageFields): Record<string, string> {
  const cols = metadataColumns(fields);
  return {
    name: cols.name === null ? "CAST(NULL AS STRING)" : sqlLiteral(cols.name),
    metadata: sqlLiteral(cols.metadata ?? "{}"),
    meta_terms: listSql(cols.meta_terms.map(sqlLiteral), "Utf8"),
    meta_num_keys: listSql(cols.meta_num_keys.map(sqlLiteral), "Utf8"),
    meta_num_vals: listSql(cols.meta_num_vals.map(sqlDouble), "Float64"),
  };
}

/** Adds the metadata columns (all NULL) to a table written before they existed: a schema-only change. */
export async function addMetadataColumns(table: lancedb.Table): Promise<void> {
  const have = new Set((await table.schema()).fields.map((f) => f.name));
  const missing = METADATA_FIELDS.filter((f) => !have.has(f.name));
  if (missing.length === 0) return;
  const nulls: Record<string, string> = {
    name: "CAST(NULL AS STRING)",
    metadata: "CAST(NULL AS STRING)",
    meta_terms: "arrow_cast(NULL, 'List(Utf8)')",
    meta_num_keys: "arrow_cast(NULL, 'List(Utf8)')",
    meta_num_vals: "arrow_cast(NULL, 'List(Float64)')",
  };
  await table.addColumns(missing.map((f) => ({ name: f.name, valueSql: nulls[f.name]! })));
}
