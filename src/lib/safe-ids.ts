/**
 * Safe ids: what an image id or tenant may look like. Every storage layer (catalog, blobs, object
 * keys, vector store filters, file paths) and the API check ids with these before using them.
 */

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
