/**
 * A metadata filter evaluated on one metadata object, with Qdrant's semantics: a condition on an
 * array matches when any item does; `match` compares strings, integers and booleans strictly by
 * type; `range` with numbers compares numbers, with date-times compares string values that are
 * date-times; `is_empty` holds for a missing key or an empty array; `is_null` never holds (metadata
 * holds no nulls). The reference the stores are checked against (test/store/conformance-metadata.ts)
 * and what filters image listings, which come from the catalog.
 *
 * One divergence from Qdrant, shared by the embedded store: a date-time range looks at string
 * values only, not at items of string arrays.
 */
import type { Metadata, MetadataCondition, MetadataFilter, RangeBounds } from "../store/types.js";
import { parseDateTime } from "./dates.js";

type Scalar = string | number | boolean;

function valuesOf(metadata: Metadata, key: string): Scalar[] {
  const v = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Qdrant matches integers only: a fractional number is never `match`ed. */
const matchable = (v: Scalar): boolean => typeof v !== "number" || Number.isSafeInteger(v);

function inRange(x: number, r: RangeBounds<number>): boolean {
  return (
    (r.gt === undefined || x > r.gt) &&
    (r.gte === undefined || x >= r.gte) &&
    (r.lt === undefined || x < r.lt) &&
    (r.lte === undefined || x <= r.lte)
  );
}

/** Date-time bounds as epoch milliseconds (they were checked to parse). */
export function dateBounds(r: RangeBounds): RangeBounds<number> {
  const out: RangeBounds<number> = {};
  for (const op of ["gt", "gte", "lt", "lte"] as const) {
    const b = r[op];
    if (b !== undefined) out[op] = typeof b === "number" ? b : parseDateTime(b)!;
  }
  return out;
}

export const isDateRange = (r: RangeBounds): boolean =>
  Object.values(r).some((b) => typeof b === "string");

function matchCondition(metadata: Metadata, c: MetadataCondition): boolean {
  if ("is_empty" in c) {
    const v = metadata[c.is_empty.key];
    return !Object.hasOwn(metadata, c.is_empty.key) || (Array.isArray(v) && v.length === 0);
  }
  if ("is_null" in c) return false;
  if ("key" in c) {
    const values = valuesOf(metadata, c.key);
    if ("range" in c) {
      if (isDateRange(c.range)) {
        const raw = metadata[c.key];
        const t = typeof raw === "string" ? parseDateTime(raw) : null;
        return t !== null && inRange(t, dateBounds(c.range));
      }
      return values.some(
        (v) => typeof v === "number" && inRange(v, c.range as RangeBounds<number>),
      );
    }
    if ("value" in c.match) {
      const want = c.match.value;
      return values.some((v) => matchable(v) && v === want);
    }
    const any = c.match.any as Scalar[];
    return values.some((v) => matchable(v) && any.includes(v));
  }
  return matchesMetadata(metadata, c);
}

/** Whether `metadata` (undefined: none) passes `filter`. */
export function matchesMetadata(metadata: Metadata | undefined, filter: MetadataFilter): boolean {
  const m = metadata ?? {};
  return (
    (filter.must ?? []).every((c) => matchCondition(m, c)) &&
    (filter.should === undefined || filter.should.some((c) => matchCondition(m, c))) &&
    !(filter.must_not ?? []).some((c) => matchCondition(m, c))
  );
}
