/**
 * A flat object store (R2, S3, or the gateway's signed object endpoint): the one storage primitive
 * the serverless deployment shares between the Worker and the Node functions. Image bytes and image
 * records both live in it, so the two sides see the same state (R2 is strongly consistent, unlike
 * KV, which matters for a record the ingest function flips to `indexed` while a client polls).
 */
export interface StoredObject {
  bytes: Uint8Array;
  contentType: string;
}

export interface ObjectStore {
  get(key: string): Promise<StoredObject | null>;
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys under `prefix`, in key order, at most `limit`; with `startAfter`, only keys after it. */
  list(prefix: string, limit: number, startAfter?: string): Promise<string[]>;
}

/** Object key layout (documented in docs/deploy.md; storage event rules filter on `images/`). */
export const IMAGE_PREFIX = "images/";
export const CATALOG_PREFIX = "catalog/";

export const imageKey = (tenant: string, imageId: string): string =>
  `${IMAGE_PREFIX}${tenant}/${imageId}`;
export const recordKey = (tenant: string, imageId: string): string =>
  `${CATALOG_PREFIX}${tenant}/${imageId}.json`;
