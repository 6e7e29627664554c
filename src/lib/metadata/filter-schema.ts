/**
 * The `filter` of search, similar search and image listing: Qdrant's own filter syntax over metadata
 * keys (docs/search.md#filters), checked here once with caps, so every store receives a filter of
 * known shape and size. Supported: `must` / `should` / `must_not` lists (nested filters allowed) of
 * `{key, match: {value}}`, `{key, match: {any}}`, `{key, range: {gt, gte, lt, lte}}` (numbers, or
 * date-times) and `{is_empty: {key}}`, `{is_null: {key}}`. Anything else is refused by path.
 */
import { z } from "@hono/zod-openapi";
import type { MetadataCondition, MetadataFilter, RangeBounds } from "../store/types.js";
import { parseDateTime } from "./dates.js";
import { isWellFormedText, METADATA_KEY, METADATA_LIMITS } from "./schema.js";

export const FILTER_LIMITS = Object.freeze({
  /** Nesting of filters, the top level being 1. */
  maxDepth: 4,
  /** Field conditions in the whole filter. */
  maxConditions: 64,
  /** Values of one `match.any`. */
  maxAnyValues: 100,
});

type Issue = { path: (string | number)[]; message: string };

class FilterIssue extends Error {
  constructor(readonly issue: Issue) {
    super(issue.message);
  }
}

const LISTS = ["must", "should", "must_not"] as const;
const RANGE_OPS = ["gt", "gte", "lt", "lte"] as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function fail(path: (string | number)[], message: string): never {
  throw new FilterIssue({ path, message });
}

function onlyKeys(
  v: Record<string, unknown>,
  allowed: readonly string[],
  path: (string | number)[],
) {
  for (const k of Object.keys(v))
    if (!allowed.includes(k)) fail([...path, k], `unknown field (allowed: ${allowed.join(", ")})`);
}

function checkKey(v: unknown, path: (string | number)[]): string {
  if (typeof v !== "string" || !METADATA_KEY.test(v))
    fail(
      path,
      "must be a metadata key: 1–64 characters of [A-Za-z0-9_], not starting with a digit",
    );
  return v;
}

function checkString(v: string, path: (string | number)[]): string {
  if (v.length > METADATA_LIMITS.maxStringChars || !isWellFormedText(v))
    fail(path, `must be well-formed text of at most ${METADATA_LIMITS.maxStringChars} characters`);
  return v;
}

/** Qdrant matches strings, integers and booleans (`MatchValue`), never fractional numbers. */
function checkMatchValue(v: unknown, path: (string | number)[]): string | number | boolean {
  if (typeof v === "string") return checkString(v, path);
  if (typeof v === "boolean" || (typeof v === "number" && Number.isSafeInteger(v))) return v;
  return fail(path, "must be a string, an integer or a boolean (use range for other numbers)");
}

function checkAny(v: unknown, path: (string | number)[]): string[] | number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > FILTER_LIMITS.maxAnyValues)
    fail(path, `must be an array of 1–${FILTER_LIMITS.maxAnyValues} values`);
  if (v.every((x) => typeof x === "string"))
    return v.map((x: string, i) => checkString(x, [...path, i]));
  if (v.every((x) => typeof x === "number" && Number.isSafeInteger(x))) return v as number[];
  return fail(path, "must be all strings or all integers");
}

function checkRange(v: unknown, path: (string | number)[]): RangeBounds {
  if (!isObject(v)) fail(path, "must be an object of gt, gte, lt, lte");
  onlyKeys(v, RANGE_OPS, path);
  const bounds = RANGE_OPS.filter((op) => v[op] !== undefined && v[op] !== null);
  if (bounds.length === 0) fail(path, "must give at least one of gt, gte, lt, lte");
  const numbers = bounds.every((op) => typeof v[op] === "number" && Number.isFinite(v[op]));
  const dates = bounds.every((op) => typeof v[op] === "string" && parseDateTime(v[op]) !== null);
  if (!numbers && !dates)
    fail(
      path,
      "bounds must be all finite numbers or all date-times (RFC 3339, e.g. 2024-05-01T00:00:00Z)",
    );
  return Object.fromEntries(bounds.map((op) => [op, v[op]])) as RangeBounds;
}

interface Walk {
  conditions: number;
}

function checkCondition(
  v: unknown,
  path: (string | number)[],
  depth: number,
  w: Walk,
): MetadataCondition {
  if (!isObject(v)) return fail(path, "must be a condition object");
  if ("key" in v) {
    if (++w.conditions > FILTER_LIMITS.maxConditions)
      fail(path, `a filter may hold at most ${FILTER_LIMITS.maxConditions} conditions`);
    onlyKeys(v, ["key", "match", "range"], path);
    const key = checkKey(v.key, [...path, "key"]);
    if ((v.match === undefined) === (v.range === undefined))
      fail(path, "a field condition needs exactly one of match, range");
    if (v.range !== undefined) return { key, range: checkRange(v.range, [...path, "range"]) };
    const match = v.match;
    if (!isObject(match)) return fail([...path, "match"], "must be {value} or {any}");
    if ("value" in match) {
      onlyKeys(match, ["value"], [...path, "match"]);
      return { key, match: { value: checkMatchValue(match.value, [...path, "match", "value"]) } };
    }
    if ("any" in match) {
      onlyKeys(match, ["any"], [...path, "match"]);
      return { key, match: { any: checkAny(match.any, [...path, "match", "any"]) } };
    }
    return fail([...path, "match"], "must be {value} or {any}");
  }
  for (const which of ["is_empty", "is_null"] as const) {
    if (!(which in v)) continue;
    onlyKeys(v, [which], path);
    const inner = v[which];
    if (!isObject(inner)) return fail([...path, which], "must be {key}");
    onlyKeys(inner, ["key"], [...path, which]);
    if (++w.conditions > FILTER_LIMITS.maxConditions)
      fail(path, `a filter may hold at most ${FILTER_LIMITS.maxConditions} conditions`);
    const key = checkKey(inner.key, [...path, which, "key"]);
    return which === "is_empty" ? { is_empty: { key } } : { is_null: { key } };
  }
  if (LISTS.some((l) => l in v)) return checkFilter(v, path, depth + 1, w);
  return fail(
    path,
    "must be a field condition {key, match|range}, is_empty, is_null or a nested filter",
  );
}

function checkFilter(
  v: unknown,
  path: (string | number)[],
  depth: number,
  w: Walk,
): MetadataFilter {
  if (!isObject(v)) return fail(path, "must be an object of must, should, must_not");
  if (depth > FILTER_LIMITS.maxDepth)
    fail(path, `filters may be nested at most ${FILTER_LIMITS.maxDepth} levels deep`);
  onlyKeys(v, LISTS, path);
  const out: MetadataFilter = {};
  for (const list of LISTS) {
    const items = v[list];
    if (items === undefined || items === null) continue;
    // An empty list is refused: Qdrant reads an empty `should` as "nothing matches", a surprise.
    if (!Array.isArray(items) || items.length === 0)
      fail([...path, list], "must be a non-empty array of conditions");
    out[list] = items.map((c, i) => checkCondition(c, [...path, list, i], depth, w));
  }
  return out;
}

/** Checks a caller's filter: the filter, normalised (null lists dropped), or a thrown issue. */
export function parseMetadataFilter(v: unknown): MetadataFilter {
  return checkFilter(v, [], 1, { conditions: 0 });
}

/** The request field: any JSON in the OpenAPI document's eyes, checked by `parseMetadataFilter`. */
export const MetadataFilterSchema = z
  .unknown()
  .transform((v, ctx) => {
    try {
      return parseMetadataFilter(v);
    } catch (err) {
      if (!(err instanceof FilterIssue)) throw err;
      ctx.addIssue({ code: "custom", message: err.issue.message, path: err.issue.path });
      return z.NEVER;
    }
  })
  .openapi({
    type: "object",
    description:
      "Only results whose image metadata matches: Qdrant's filter syntax (must/should/must_not of " +
      "{key, match: {value}}, {key, match: {any}}, {key, range: {gt, gte, lt, lte}}, {is_empty: {key}}, " +
      `{is_null: {key}}); at most ${FILTER_LIMITS.maxConditions} conditions, ${FILTER_LIMITS.maxDepth} levels deep. docs/search.md#filters`,
    example: {
      must: [
        { key: "category", match: { value: "dress" } },
        { key: "price", range: { lte: 50 } },
      ],
    },
  });
