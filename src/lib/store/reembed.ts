/**
 * The ingest pipeline as a re-index needs it: the images to re-embed (from the catalog) and, for one
 * image, its points under the NEW pack (stored bytes → new pack's extractor → points), without
 * touching the catalog record or the live store. Feed both to `reindexQdrant`.
 */
import { buildPoints } from "../ingest.js";
import type { BlobStore, ImageCatalog, RegionExtractor } from "../services.js";
import type { StoredPoint } from "./types.js";

export interface ImageToReembed {
  tenant: string;
  imageId: string;
}

/** Indexed images of the given tenants, in a stable order (tenant, then id). */
export async function* indexedImages(catalog: ImageCatalog, tenants: readonly string[]): AsyncGenerator<ImageToReembed> {
  for (const tenant of tenants) {
    const records = await catalog.list(tenant, { status: "indexed" });
    for (const r of records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) yield { tenant, imageId: r.id };
  }
}

/**
 * `embed` for `reindexQdrant`: an image whose bytes are gone (deleted meanwhile) yields no points,
 * so the re-index goes on; an image the new extractor cannot read fails the run loudly.
 */
export function reembedWith(deps: { blobs: BlobStore; extractor: RegionExtractor; now?: () => Date }) {
  return async (image: ImageToReembed): Promise<StoredPoint[]> => {
    const blob = await deps.blobs.get(image.tenant, image.imageId);
    if (!blob) return [];
    const extracted = await deps.extractor.extract(blob.bytes);
    const createdAt = (deps.now ?? (() => new Date()))().toISOString();
    return buildPoints({ tenant: image.tenant, imageId: image.imageId }, extracted, deps.extractor.pack, createdAt).map((p) => ({
      ...p,
      payload: { ...p.payload, tenant: image.tenant },
    }));
  };
}
