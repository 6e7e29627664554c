/** An in-memory `ObjectStore` (tests, and single-process setups that need no durability). */
import type { ObjectStore, StoredObject } from "./types.js";

export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, StoredObject>();

  async get(key: string): Promise<StoredObject | null> {
    const obj = this.objects.get(key);
    return obj ? { bytes: obj.bytes.slice(), contentType: obj.contentType } : null;
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    this.objects.set(key, { bytes: bytes.slice(), contentType });
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async list(prefix: string, limit: number): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort().slice(0, limit);
  }
}
