/** `ObjectStore` on an R2 bucket binding (strongly consistent: a record written is read back). */
import type { R2Bucket } from "@cloudflare/workers-types";
import type { ObjectStore, StoredObject } from "../lib/objects/index.js";

export class R2ObjectStore implements ObjectStore {
  constructor(private readonly bucket: R2Bucket) {}

  async get(key: string): Promise<StoredObject | null> {
    const obj = await this.bucket.get(key);
    if (!obj) return null;
    return {
      bytes: new Uint8Array(await obj.arrayBuffer()),
      contentType: obj.httpMetadata?.contentType ?? "application/octet-stream",
    };
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.bucket.put(key, bytes, { httpMetadata: { contentType } });
  }

  async delete(key: string): Promise<void> {
    await this.bucket.delete(key);
  }

  async list(prefix: string, limit: number, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({
        prefix,
        limit: Math.min(1000, limit - keys.length),
        ...(cursor ? { cursor } : startAfter !== undefined ? { startAfter } : {}),
      });
      keys.push(...page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor && keys.length < limit);
    return keys;
  }
}
