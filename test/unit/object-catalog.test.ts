import { describe, expect, it } from "vitest";
import { ObjectCatalog } from "../../src/lib/objects/index.js";
import type { ObjectStore, StoredObject } from "../../src/lib/objects/types.js";
import type { ImageRecord } from "../../src/lib/services.js";

/** Keys in order, listed a page at a time as S3 and R2 do (at most 1000 per call). */
class SortedObjects implements ObjectStore {
  readonly data = new Map<string, StoredObject>();
  listCalls = 0;
  async get(key: string) {
    return this.data.get(key) ?? null;
  }
  async put(key: string, bytes: Uint8Array, contentType: string) {
    this.data.set(key, { bytes, contentType });
  }
  async delete(key: string) {
    this.data.delete(key);
  }
  async list(prefix: string, limit: number, startAfter = "") {
    this.listCalls++;
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix) && k > startAfter);
    return keys.sort().slice(0, Math.min(limit, 1000));
  }
}

function record(id: string, status: ImageRecord["status"] = "indexed"): ImageRecord {
  const now = "2026-12-08T00:00:00.000Z";
  return {
    tenant: "acme",
    id,
    status,
    contentType: "image/png",
    bytes: 1,
    sha256: id,
    attempts: 1,
    createdAt: now,
    updatedAt: now,
  };
}

describe("ObjectCatalog.list past the store's 1000-key page", () => {
  it("pages by cursor through 2500 records, each once, in order", async () => {
    const objects = new SortedObjects();
    const catalog = new ObjectCatalog(objects);
    const ids = Array.from({ length: 2500 }, (_, i) => `img-${String(i).padStart(5, "0")}`);
    for (const id of ids) await catalog.put(record(id));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await catalog.list("acme", { limit: 700, ...(after ? { after } : {}) });
      seen.push(...page.map((r) => r.id));
      if (page.length < 700) break;
      after = page[page.length - 1]!.id;
    }
    expect(seen).toEqual(ids);
  });

  it("a filter that matches only late records still finds them (scans on, page after page)", async () => {
    const objects = new SortedObjects();
    const catalog = new ObjectCatalog(objects);
    for (let i = 0; i < 2300; i++)
      await catalog.put(
        record(`img-${String(i).padStart(5, "0")}`, i >= 2290 ? "failed" : "indexed"),
      );
    const failed = await catalog.list("acme", { status: "failed", limit: 100 });
    expect(failed.map((r) => r.id)).toEqual(
      Array.from({ length: 10 }, (_, k) => `img-0${2290 + k}`),
    );
    expect(objects.listCalls).toBe(3);
  });
});
