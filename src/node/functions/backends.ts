/**
 * Storage of the Node functions, from parsed settings: image records and bytes (local disk, the
 * gateway's signed R2 endpoint, or the bucket over the S3 API) and the vector store (embedded
 * LanceDB, or Qdrant).
 */
import path from "node:path";
import { INTERNAL_PREFIX, ObjectBlobStore, ObjectCatalog, RemoteObjectStore, type ObjectStore } from "../../lib/objects/index.js";
import type { BlobStore, ImageCatalog } from "../../lib/services.js";
import { createQdrantStore, type QdrantStoreOptions } from "../../lib/store/qdrant/index.js";
import type { VectorStore } from "../../lib/store/types.js";
import { SignedClient } from "../../lib/webhooks/client.js";
import { DiskBlobStore } from "../blobs/disk-blobs.js";
import { FileCatalog } from "../catalog/file-catalog.js";
import { S3ObjectStore, type S3ObjectStoreOptions } from "../objects/s3.js";
import { LanceVectorStore } from "../store/lance.js";

export type ObjectSettings =
  | { kind: "disk"; dataDir: string }
  | { kind: "gateway"; url: string; secrets: readonly string[] }
  | { kind: "s3"; options: S3ObjectStoreOptions };

export type VectorSettings = { kind: "embedded"; dir: string } | { kind: "qdrant"; options: QdrantStoreOptions };

export interface Backends {
  catalog: ImageCatalog;
  blobs: BlobStore;
  vectors: VectorStore;
}

export function buildObjectBackends(settings: ObjectSettings): Omit<Backends, "vectors"> {
  if (settings.kind === "disk") {
    return { catalog: new FileCatalog(settings.dataDir), blobs: new DiskBlobStore(settings.dataDir) };
  }
  const objects = settings.kind === "s3" ? new S3ObjectStore(settings.options) : gatewayObjects(settings.url, settings.secrets);
  return { catalog: new ObjectCatalog(objects), blobs: new ObjectBlobStore(objects) };
}

/** The Worker's signed object endpoint as an `ObjectStore`. */
function gatewayObjects(url: string, secrets: readonly string[]): ObjectStore {
  // The gateway's object endpoint lives under /internal on the Worker (src/edge/internal.ts).
  const base = url.replace(/\/+$/, "") + INTERNAL_PREFIX;
  return new RemoteObjectStore(new SignedClient({ baseUrl: base, secrets }));
}

export async function buildVectorStore(settings: VectorSettings): Promise<VectorStore> {
  if (settings.kind === "qdrant") return createQdrantStore(settings.options);
  return LanceVectorStore.open({ dir: settings.dir });
}

/** `dataDir/vectors`, the same layout as the local server's embedded store. */
export const embeddedVectorDir = (dataDir: string): string => path.join(dataDir, "vectors");
