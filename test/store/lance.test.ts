import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { DIM, point, unit, vectorStoreConformance } from "./conformance.js";

vectorStoreConformance("LanceDB", { open: (dir) => LanceVectorStore.open({ dir }), persistent: true });

describe("LanceDB vector index", () => {
  it("builds the ANN index at the threshold and keeps answering with filters and tenants", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "rs-lance-"));
    const store = await LanceVectorStore.open({ dir, indexThreshold: 600 });
    try {
      // Deterministic pseudo-random directions; two tenants interleaved.
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
      const pts = Array.from({ length: 700 }, (_, i) => {
        const tenant = i % 2 ? "a" : "b";
        return point(tenant, `img${Math.floor(i / 10)}`, i % 10, unit(...Array.from({ length: DIM }, rnd)), { area: i });
      });
      await store.upsert("a", pts.filter((p) => p.payload.tenant === "a").slice(0, 200));
      expect(store.hasVectorIndex).toBe(false);
      await store.upsert("a", pts.filter((p) => p.payload.tenant === "a").slice(200));
      await store.upsert("b", pts.filter((p) => p.payload.tenant === "b"));
      expect(store.hasVectorIndex).toBe(true);
      const target = pts[501]!;
      const hits = await store.search("a", target.vector, { limit: 5, filter: { kind: "region", minArea: 100 } });
      expect(hits[0]?.id).toBe(target.id);
      expect(hits[0]?.score).toBeCloseTo(1, 3);
      expect(hits.every((h) => h.payload.tenant === "a" && h.payload.area >= 100)).toBe(true);
      expect(await store.search("b", target.vector, { limit: 50 }).then((h) => h.some((x) => x.id === target.id))).toBe(false);
      await store.close();
      const reopened = await LanceVectorStore.open({ dir, indexThreshold: 600 });
      expect(reopened.hasVectorIndex).toBe(true);
      expect(await reopened.count("a")).toBe(350);
      // With the BTree index on id, scan still pages in id order from its cursor.
      const aIds = pts.filter((p) => p.payload.tenant === "a").map((p) => p.id).sort();
      const first = await reopened.scan("a", { limit: 50 });
      expect(first.map((p) => p.id)).toEqual(aIds.slice(0, 50));
      expect((await reopened.scan("a", { limit: 50, after: first.at(-1)!.id })).map((p) => p.id)).toEqual(aIds.slice(50, 100));
      await reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
