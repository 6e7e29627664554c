/**
 * Filters sent to Qdrant. `tenantFilter` is the ONE place the tenant condition is written
 * (docs/architecture.md §2): every read and write of the store builds its filter here, so no request can reach
 * the collection without it.
 */
import type { Schemas } from "@qdrant/js-client-rest";
import { assertSafeId } from "../../safe-ids.js";
import type { SearchFilter } from "../types.js";
import { toQdrantFilter } from "./metadata.js";

type Condition = Schemas["Condition"];

/**
 * `must: [tenant = <tenant>, ...conditions]`. The tenant is checked to be a safe id first: Qdrant
 * filters are JSON, so nothing can break out of them, but an id that can never have been written
 * should fail loudly rather than silently match nothing.
 */
export function tenantFilter(
  tenant: string,
  conditions: Condition[] = [],
  mustNot: Condition[] = [],
): Schemas["Filter"] {
  const must: Condition[] = [
    { key: "tenant", match: { value: assertSafeId(tenant, "tenant") } },
    ...conditions,
  ];
  return mustNot.length ? { must, must_not: mustNot } : { must };
}

export function imageCondition(imageId: string): Condition {
  return { key: "image_id", match: { value: assertSafeId(imageId, "image id") } };
}

/**
 * Our `SearchFilter` → conditions (without the tenant), or `null` when the filter can match nothing
 * (an empty `imageIds`), so callers answer empty without a round trip.
 */
export function searchConditions(f: SearchFilter = {}): Condition[] | null {
  const out: Condition[] = [];
  if (f.imageIds) {
    if (f.imageIds.length === 0) return null;
    const ids = [...new Set(f.imageIds.map((id) => assertSafeId(id, "image id")))];
    out.push({ key: "image_id", match: { any: ids } });
  }
  if (f.kind) out.push({ key: "kind", match: { value: f.kind } });
  if (f.minArea !== undefined) out.push({ key: "area", range: { gte: f.minArea } });
  const user = f.metadata ? toQdrantFilter(f.metadata) : {};
  if (Object.keys(user).length > 0) out.push(user);
  return out;
}
