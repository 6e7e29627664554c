/**
 * Storage of the Node functions, from parsed settings: image records and bytes (local disk, or the
 * gateway's signed R2 endpoint) and the vector store (embedded LanceDB, or Qdrant).
 */
import path from "node:path";
import { INTERNAL_PREFIX, ObjectBlobStore, ObjectCatalog, RemoteObjectStore } from "../../lib/objects/index.js";
import type { BlobStore, ImageCatalog } from "../../lib/services.js";
import { createQdrantStore, type QdrantStoreOptions } from "../../lib/store/qdrant/index.js";
import type { VectorStore } from "../../lib/store/types.js";
import { SignedClient } from "../../lib/webhooks/client.js";
import { DiskBlobStore } from "../blobs/disk-blobs.js";
import { FileCatalog } from "../catalog/file-catalog.js";
import { LanceVectorStore } from "../store/lance.js";

export type ObjectSettings =
  | { kind: "disk"; dataDir: string }
  | { kind: "gateway"; url: string; secrets: readonly string[] };

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
  // The gateway's object endpoint lives under /internal on the Worker (src/edge/internal.ts).
  const base = settings.url.replace(/\/+$/, "") + INTERNAL_PREFIX;
  const objects = new RemoteObjectStore(new SignedClient({ baseUrl: base, secrets: settings.secrets }));
  return { catalog: new ObjectCatalog(objects), blobs: new ObjectBlobStore(objects) };
}

export async function buildVectorStore(settings: VectorSettings): Promise<VectorStore> {
  if (settings.kind === "qdrant") return createQdrantStore(settings.options);
  return LanceVectorStore.open({ dir: settings.dir });
}

/** `dataDir/vectors`, the same layout as the local server's embedded store. */
export const embeddedVectorDir = (dataDir: string): string => path.join(dataDir, "vectors");
