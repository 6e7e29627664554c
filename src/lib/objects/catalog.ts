/** `ImageCatalog` on an object store: one JSON record per image at `catalog/<tenant>/<imageId>.json`. */
import type { ImageCatalog, ImageRecord, ListOptions } from "../services.js";
import { isSafeId } from "../safe-ids.js";
import { CATALOG_PREFIX, recordKey, type ObjectStore } from "./types.js";

/** Records listed per call at most; listing is for status pages, not bulk export. */
const LIST_SCAN = 1000;

export class ObjectCatalog implements ImageCatalog {
  constructor(private readonly objects: ObjectStore) {}

  async get(tenant: string, id: string): Promise<ImageRecord | null> {
    if (!isSafeId(tenant) || !isSafeId(id)) return null;
    const obj = await this.objects.get(recordKey(tenant, id));
    return obj ? (JSON.parse(new TextDecoder().decode(obj.bytes)) as ImageRecord) : null;
  }

  async put(record: ImageRecord): Promise<void> {
    if (!isSafeId(record.tenant) || !isSafeId(record.id))
      throw new Error("invalid tenant or image id");
    const bytes = new TextEncoder().encode(JSON.stringify(record));
    await this.objects.put(recordKey(record.tenant, record.id), bytes, "application/json");
  }

  async delete(tenant: string, id: string): Promise<void> {
    if (!isSafeId(tenant) || !isSafeId(id)) return;
    await this.objects.delete(recordKey(tenant, id));
  }

  /** Scans at most LIST_SCAN keys per call; the cursor (`after`) skips the keys before it. */
  async list(tenant: string, options: ListOptions = {}): Promise<ImageRecord[]> {
    if (!isSafeId(tenant)) return [];
    const keys = await this.objects.list(`${CATALOG_PREFIX}${tenant}/`, LIST_SCAN);
    const out: ImageRecord[] = [];
    for (const key of keys) {
      const id = key.slice(`${CATALOG_PREFIX}${tenant}/`.length, -".json".length);
      if (options.after !== undefined && id <= options.after) continue;
      const record = await this.get(tenant, id);
      if (
        record &&
        (!options.status || record.status === options.status) &&
        (options.where?.(record) ?? true)
      )
        out.push(record);
      if (options.limit !== undefined && out.length >= options.limit) break;
    }
    return out;
  }
}
