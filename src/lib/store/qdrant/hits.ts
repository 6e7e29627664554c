/**
 * What Qdrant's reads answer → ours: scored points to hits, scroll cursors, and the grouped hit a
 * concurrent delete leaves behind.
 */
import type { Schemas } from "@qdrant/js-client-rest";
import type { SearchHit } from "../types.js";
import { fromRecord } from "./payload.js";

/** Cosine scores are in [-1, 1]; float rounding can put one a hair outside, which LanceDB's never are. */
export function toHit(p: Schemas["ScoredPoint"]): SearchHit {
  const { id, payload } = fromRecord(p);
  return { id, score: Math.min(1, Math.max(-1, p.score)), payload };
}

/**
 * A grouped hit whose point was deleted while the query ran. Qdrant picks the groups with only the
 * `group_by` field of each point, then fills in payloads by id; a point gone by then keeps just that
 * field (qdrant lib/collection/src/grouping/group_by.rs, `hydrate_from` in lib/shard/src/grouping/mod.rs).
 */
export function deletedMidQuery(p: Schemas["ScoredPoint"]): boolean {
  const keys = Object.keys(p.payload ?? {});
  return keys.every((k) => k === "image_id");
}

/** Point ids are UUIDs or integers; anything else ends a scroll rather than looping on it. */
export function nextOffset(next: unknown): Schemas["ExtendedPointId"] | undefined {
  return typeof next === "string" || typeof next === "number" ? next : undefined;
}
