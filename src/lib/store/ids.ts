/**
 * Identifiers: what an image id or tenant may look like, and the deterministic point ids that make
 * re-ingesting an image idempotent (docs/architecture.md §2).
 */
import { v5 as uuidv5, validate as uuidValidate } from "uuid";

/**
 * Namespace of every point id of this project (a random UUID fixed once, never to change: changing
 * it would orphan every stored point).
 */
const POINT_ID_NAMESPACE = "6f1e9a52-3c1b-4c57-9a55-7d0f2b8e4a13";

/** Image ids and tenants: 1–128 characters of `[A-Za-z0-9._-]`, not only dots (no `.`/`..`). */
export const SAFE_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._-]{1,128}$/;

export function isSafeId(value: string): boolean {
  return SAFE_ID_PATTERN.test(value);
}

/** Throws unless `value` is a safe id; storage layers call this before using an id in a path or filter. */
export function assertSafeId(value: string, what = "id"): string {
  if (!isSafeId(value)) throw new Error(`invalid ${what}: ${JSON.stringify(value.slice(0, 140))}`);
  return value;
}

/**
 * Point id = UUIDv5(namespace, "tenant/imageId/regionIndex/pack"). Tenant and image id cannot contain
 * "/", so the name is unambiguous; the whole-image point uses regionIndex −1.
 */
export function pointId(tenant: string, imageId: string, regionIndex: number, pack: string): string {
  return uuidv5(`${tenant}/${imageId}/${regionIndex}/${pack}`, POINT_ID_NAMESPACE);
}

/** Region ids are UUIDs; anything else cannot name a region. */
export function isPointId(value: string): boolean {
  return uuidValidate(value);
}
