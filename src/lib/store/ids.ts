/**
 * Point ids: the deterministic ids that make re-ingesting an image idempotent (docs/architecture.md §2).
 * Tenants and image ids are safe ids (src/lib/safe-ids.ts).
 */
import { v5 as uuidv5, validate as uuidValidate } from "uuid";

/**
 * Namespace of every point id of this project (a random UUID fixed once, never to change: changing
 * it would orphan every stored point).
 */
const POINT_ID_NAMESPACE = "6f1e9a52-3c1b-4c57-9a55-7d0f2b8e4a13";

/**
 * Point id = UUIDv5(namespace, "tenant/imageId/regionIndex/pack"). Tenant and image id cannot contain
 * "/", so the name is unambiguous; the whole-image point uses regionIndex −1.
 */
export function pointId(
  tenant: string,
  imageId: string,
  regionIndex: number,
  pack: string,
): string {
  return uuidv5(`${tenant}/${imageId}/${regionIndex}/${pack}`, POINT_ID_NAMESPACE);
}

/** Region ids are UUIDs; anything else cannot name a region. */
export function isPointId(value: string): boolean {
  return uuidValidate(value);
}
