/**
 * Tenant scoping, enforced in one place (docs/architecture.md §2). The API and the ingest job never touch the
 * catalog, blob store or vector store directly: they get a `TenantScope` bound to the caller's tenant,
 * which passes that tenant on every call and re-checks what comes back, so a bug elsewhere cannot
 * read or write across tenants.
 */
import type {
  BlobStore,
  ImageCatalog,
  ImageRecord,
  IngestJob,
  JobQueue,
  ListOptions,
} from "./services.js";
import { assertSafeId } from "./safe-ids.js";
import type {
  ImageFields,
  SearchFilter,
  SearchHit,
  SearchOptions,
  StoredPoint,
  VectorStore,
} from "./store/types.js";

export interface TenantBackends {
  catalog: ImageCatalog;
  blobs: BlobStore;
  vectors: VectorStore;
  jobs?: JobQueue;
}

export type ScopedRecord = Omit<ImageRecord, "tenant">;
export type ScopedPoint = Omit<StoredPoint, "payload"> & {
  payload: Omit<StoredPoint["payload"], "tenant">;
};

export interface TenantScope {
  readonly tenant: string;
  getImage(id: string): Promise<ImageRecord | null>;
  putImage(record: ScopedRecord): Promise<ImageRecord>;
  deleteImage(id: string): Promise<void>;
  listImages(options?: ListOptions): Promise<ImageRecord[]>;
  putBlob(id: string, bytes: Uint8Array, contentType: string): Promise<void>;
  getBlob(id: string): Promise<{ bytes: Uint8Array; contentType: string } | null>;
  deleteBlob(id: string): Promise<void>;
  /** Every point of the image. */
  deleteImagePoints(imageId: string): Promise<void>;
  /** The image's points become exactly `points` (VectorStore.replaceImage). */
  replaceImagePoints(imageId: string, points: ScopedPoint[]): Promise<void>;
  search(vector: Float32Array, options: SearchOptions): Promise<SearchHit[]>;
  getPoint(id: string, withVector?: boolean): Promise<StoredPoint | null>;
  listImagePoints(imageId: string, withVector?: boolean): Promise<StoredPoint[]>;
  countPoints(filter?: SearchFilter): Promise<number>;
  /** The name and metadata of every point of the image (VectorStore.setImageFields). */
  setImageFields(imageId: string, fields: ImageFields): Promise<void>;
  enqueue(imageId: string): Promise<void>;
  /** Waits until the image's job settles, when the queue can tell; false when it cannot. */
  waitForJob(imageId: string, timeoutMs: number): Promise<boolean>;
}

export function scopeTenant(backends: TenantBackends, tenant: string): TenantScope {
  assertSafeId(tenant, "tenant");
  const { catalog, blobs, vectors, jobs } = backends;
  const mine = <T extends { tenant: string }>(x: T | null): T | null =>
    x && x.tenant === tenant ? x : null;
  const minePoint = (p: StoredPoint | null): StoredPoint | null =>
    p && p.payload.tenant === tenant ? p : null;
  const job = (imageId: string): IngestJob => ({
    tenant,
    imageId: assertSafeId(imageId, "image id"),
  });
  const withTenant = (p: ScopedPoint): StoredPoint => ({ ...p, payload: { ...p.payload, tenant } });

  return {
    tenant,
    getImage: async (id) => mine(await catalog.get(tenant, id)),
    putImage: async (record) => {
      const full: ImageRecord = { ...record, tenant };
      await catalog.put(full);
      return full;
    },
    deleteImage: (id) => catalog.delete(tenant, id),
    listImages: async (options) =>
      (await catalog.list(tenant, options)).filter((r) => r.tenant === tenant),
    putBlob: (id, bytes, contentType) =>
      blobs.put(tenant, assertSafeId(id, "image id"), bytes, contentType),
    getBlob: (id) => blobs.get(tenant, id),
    deleteBlob: (id) => blobs.delete(tenant, id),
    deleteImagePoints: (imageId) => vectors.deleteImage(tenant, imageId),
    // The store refuses points of another image (VectorStore.replaceImage).
    replaceImagePoints: (imageId, points) =>
      vectors.replaceImage(tenant, imageId, points.map(withTenant)),
    search: async (vector, options) =>
      (await vectors.search(tenant, vector, options)).filter((h) => h.payload.tenant === tenant),
    getPoint: async (id, withVector) => minePoint(await vectors.get(tenant, id, withVector)),
    listImagePoints: async (imageId, withVector) =>
      (await vectors.listImage(tenant, imageId, withVector)).filter(
        (p) => p.payload.tenant === tenant,
      ),
    countPoints: (filter) => vectors.count(tenant, filter),
    setImageFields: (imageId, fields) =>
      vectors.setImageFields(tenant, assertSafeId(imageId, "image id"), fields),
    enqueue: async (imageId) => {
      if (!jobs) throw new Error("no job queue configured");
      await jobs.enqueue(job(imageId));
    },
    waitForJob: async (imageId, timeoutMs) => {
      if (!jobs?.waitFor) return false;
      await jobs.waitFor(job(imageId), timeoutMs);
      return true;
    },
  };
}
