/** `BlobStore` on an object store: image bytes at `images/<tenant>/<imageId>`. */
import type { BlobStore } from "../services.js";
import { assertSafeId, isSafeId } from "../safe-ids.js";
import { IMAGE_PREFIX, imageKey, type ObjectStore } from "./types.js";

export class ObjectBlobStore implements BlobStore {
  constructor(private readonly objects: ObjectStore) {}

  async put(tenant: string, id: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.objects.put(
      imageKey(assertSafeId(tenant, "tenant"), assertSafeId(id, "image id")),
      bytes,
      contentType,
    );
  }

  async get(tenant: string, id: string) {
    if (!isSafeId(tenant) || !isSafeId(id)) return null;
    return this.objects.get(imageKey(tenant, id));
  }

  async delete(tenant: string, id: string): Promise<void> {
    if (!isSafeId(tenant) || !isSafeId(id)) return;
    await this.objects.delete(imageKey(tenant, id));
  }
}

/** `images/<tenant>/<imageId>` → its parts; null for any other key (events outside our layout). */
export function parseImageKey(key: string): { tenant: string; imageId: string } | null {
  if (!key.startsWith(IMAGE_PREFIX)) return null;
  const [tenant, imageId, ...rest] = key.slice(IMAGE_PREFIX.length).split("/");
  if (rest.length > 0 || !tenant || !imageId || !isSafeId(tenant) || !isSafeId(imageId))
    return null;
  return { tenant, imageId };
}
