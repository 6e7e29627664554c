/** `ImageCatalog` on an object store: one JSON record per image at `catalog/<tenant>/<imageId>.json`. */
import type { ImageCatalog, ImageRecord, ListOptions } from "../services.js";
import { isSafeId } from "../safe-ids.js";
import { CATALOG_PREFIX, recordKey, type ObjectStore } from "./types.js";

/** Keys read per list call of the object store (S3's and R2's page size). */
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

  /**
   * Records in key order, from the cursor on, until `limit` match: the store lists from the
   * cursor's key (`prefix + after`, so no id after the cursor is ever skipped), a page at a time.
   */
  async list(tenant: string, options: ListOptions = {}): Promise<ImageRecord[]> {
    if (!isSafeId(tenant)) return [];
    const prefix = `${CATALOG_PREFIX}${tenant}/`;
    const out: ImageRecord[] = [];
    let startAfter = options.after !== undefined ? prefix + options.after : undefined;
    for (;;) {
      const keys = await this.objects.list(prefix, LIST_SCAN, startAfter);
      for (const key of keys) {
        const id = key.slice(prefix.length, -".json".length);
        if (options.after !== undefined && id <= options.after) continue;
        const record = await this.get(tenant, id);
        if (record && this.matches(record, options)) out.push(record);
        if (options.limit !== undefined && out.length >= options.limit) return out;
      }
      if (keys.length < LIST_SCAN) return out;
      startAfter = keys[keys.length - 1];
    }
  }

  private matches(record: ImageRecord, options: ListOptions): boolean {
    return (
      (!options.status || record.status === options.status) && (options.where?.(record) ?? true)
    );
  }
}
