/**
 * VectorStore conformance suite (docs/architecture.md §2): one set of behaviours every backend must show.
 * `vectorStoreConformance(name, factory)` registers the suite; run it from a `*.test.ts` per backend.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pointId } from "../../src/lib/store/ids.js";
import type { PointKind, StoredPoint, VectorStore } from "../../src/lib/store/types.js";
import { metadataConformance } from "./conformance-metadata.js";

export interface StoreFactory {
  /** Open (or reopen) a store kept in `dir`. */
  open(dir: string): Promise<VectorStore>;
  /** Whether a store reopened on the same dir sees earlier writes. */
  persistent: boolean;
}

export const DIM = 8;
const PACK = "conf@1";

export function unit(...xs: number[]): Float32Array {
  const v = new Float32Array(DIM);
  xs.forEach((x, i) => (v[i] = x));
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export function point(
  tenant: string,
  imageId: string,
  regionIndex: number,
  vector: Float32Array,
  extra: { area?: number; kind?: PointKind } = {},
): StoredPoint {
  const kind = extra.kind ?? (regionIndex < 0 ? "image" : "region");
  return {
    id: pointId(tenant, imageId, regionIndex, PACK),
    vector,
    payload: {
      tenant,
      imageId,
      kind,
      regionIndex,
      bbox: [regionIndex, 2, 3, 4],
      area: extra.area ?? 100 + regionIndex,
      predictedIou: 0.875,
      stability: 0.9375,
      mask: kind === "image" ? null : { size: [4, 5], counts: `mask-${regionIndex}'"\\` },
      pack: PACK,
      imageWidth: 5,
      imageHeight: 4,
      createdAt: "2025-01-02T03:04:05.000Z",
    },
  };
}

export function vectorStoreConformance(name: string, factory: StoreFactory): void {
  describe(`VectorStore conformance: ${name}`, () => {
    let dir: string;
    let store: VectorStore;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), "rs-store-"));
      store = await factory.open(dir);
    });
    afterEach(async () => {
      await store.close?.();
      await rm(dir, { recursive: true, force: true });
    });

    it("empty store: search, get, listImage, count answer empty", async () => {
      expect(await store.search("t", unit(1), { limit: 5 })).toEqual([]);
      expect(await store.get("t", pointId("t", "x", 0, PACK))).toBeNull();
      expect(await store.listImage("t", "x")).toEqual([]);
      expect(await store.count("t")).toBe(0);
      await store.deleteImage("t", "x");
    });

    it("upsert then get round-trips payload and vector", async () => {
      const p = point("t", "img", 0, unit(1, 2, 3));
      await store.upsert("t", [p]);
      const got = await store.get("t", p.id, true);
      expect(got?.payload).toEqual(p.payload);
      expect(Array.from(got!.vector)).toEqual(
        Array.from(p.vector).map((x) => expect.closeTo(x, 6)),
      );
      expect((await store.get("t", p.id))?.payload).toEqual(p.payload);
    });

    it("upsert with an existing id replaces, never duplicates", async () => {
      await store.upsert("t", [point("t", "img", 0, unit(1)), point("t", "img", 1, unit(0, 1))]);
      await store.upsert("t", [point("t", "img", 0, unit(0, 0, 1), { area: 7 })]);
      expect(await store.count("t")).toBe(2);
      const p = await store.get("t", pointId("t", "img", 0, PACK), true);
      expect(p?.payload.area).toBe(7);
      expect(p?.vector[2]).toBeCloseTo(1, 6);
    });

    it("refuses points of another tenant than the caller's", async () => {
      await expect(store.upsert("a", [point("b", "img", 0, unit(1))])).rejects.toThrow();
      expect(await store.count("b")).toBe(0);
    });

    it("listImage orders by regionIndex, whole-image point first", async () => {
      await store.upsert(
        "t",
        [2, 0, -1, 1].map((i) => point("t", "img", i, unit(1, i + 2))),
      );
      expect((await store.listImage("t", "img")).map((p) => p.payload.regionIndex)).toEqual([
        -1, 0, 1, 2,
      ]);
    });

    it("deleteImage with keepIds removes only the stale points of that image", async () => {
      await store.upsert(
        "t",
        [0, 1, 2, 3].map((i) => point("t", "img", i, unit(1, i))),
      );
      await store.upsert("t", [point("t", "other", 0, unit(1))]);
      await store.upsert("u", [point("u", "img", 0, unit(1))]);
      const keep = [0, 2].map((i) => pointId("t", "img", i, PACK));
      await store.deleteImage("t", "img", keep);
      expect((await store.listImage("t", "img")).map((p) => p.id).sort()).toEqual([...keep].sort());
      expect(await store.count("t", { imageIds: ["other"] })).toBe(1);
      expect(await store.count("u")).toBe(1);
      await store.deleteImage("t", "img");
      expect(await store.listImage("t", "img")).toEqual([]);
      expect(await store.count("t")).toBe(1);
    });

    it("replaceImage makes the given points the image's only ones, touching no other image or tenant", async () => {
      await store.upsert(
        "t",
        [-1, 0, 1, 2, 3].map((i) => point("t", "img", i, unit(1, i))),
      );
      await store.upsert("t", [point("t", "other", 0, unit(1))]);
      await store.upsert("u", [point("u", "img", 0, unit(1)), point("u", "img", 5, unit(1))]);
      // Fewer regions than before, one of them new (index 7), one re-embedded (index 0).
      const next = [
        point("t", "img", -1, unit(0, 1)),
        point("t", "img", 0, unit(0, 0, 1), { area: 9 }),
        point("t", "img", 7, unit(1, 1)),
      ];
      await store.replaceImage("t", "img", next);
      expect((await store.listImage("t", "img")).map((p) => p.payload.regionIndex)).toEqual([
        -1, 0, 7,
      ]);
      expect((await store.get("t", next[1]!.id, true))?.payload.area).toBe(9);
      expect(await store.count("t", { imageIds: ["other"] })).toBe(1);
      expect(await store.count("u")).toBe(2);
      // Idempotent (a retried job), and an empty set deletes the image's points.
      await store.replaceImage("t", "img", next);
      expect(await store.count("t")).toBe(4);
      await store.replaceImage("t", "img", []);
      expect(await store.listImage("t", "img")).toEqual([]);
      expect(await store.count("t")).toBe(1);
      // The first write of an image, and refusals that write nothing.
      await store.replaceImage("t", "new", [point("t", "new", 0, unit(1))]);
      expect(await store.count("t", { imageIds: ["new"] })).toBe(1);
      await expect(
        store.replaceImage("t", "new", [point("u", "new", 1, unit(1))]),
      ).rejects.toThrow();
      await expect(
        store.replaceImage("t", "new", [point("t", "img", 1, unit(1))]),
      ).rejects.toThrow();
      expect(await store.count("t")).toBe(2);
      expect(await store.count("u")).toBe(2);
    });

    it("search orders by cosine similarity and reports it as the score", async () => {
      await store.upsert("t", [
        point("t", "a", 0, unit(1, 0)),
        point("t", "a", 1, unit(1, 1)),
        point("t", "b", 0, unit(0, 1)),
        point("t", "b", 1, unit(-1, 0)),
      ]);
      const hits = await store.search("t", unit(1, 0), { limit: 10 });
      expect(hits.map((h) => [h.payload.imageId, h.payload.regionIndex])).toEqual([
        ["a", 0],
        ["a", 1],
        ["b", 0],
        ["b", 1],
      ]);
      expect(hits.map((h) => h.score)).toEqual([
        expect.closeTo(1, 4),
        expect.closeTo(Math.SQRT1_2, 4),
        expect.closeTo(0, 4),
        expect.closeTo(-1, 4),
      ]);
      expect(hits[0]!.payload).toEqual(point("t", "a", 0, unit(1)).payload);
      expect(await store.search("t", unit(1, 0), { limit: 2 })).toHaveLength(2);
    });

    it("search filters: kind, imageIds, minArea (combined), empty imageIds", async () => {
      await store.upsert("t", [
        point("t", "a", -1, unit(1)),
        point("t", "a", 0, unit(1, 0.1), { area: 50 }),
        point("t", "b", 0, unit(1, 0.2), { area: 500 }),
        point("t", "c", 0, unit(1, 0.3), { area: 5000 }),
      ]);
      const ids = async (filter: object) =>
        (await store.search("t", unit(1), { limit: 10, filter })).map(
          (h) => `${h.payload.imageId}${h.payload.regionIndex}`,
        );
      expect(await ids({ kind: "image" })).toEqual(["a-1"]);
      expect(await ids({ kind: "region" })).toEqual(["a0", "b0", "c0"]);
      expect(await ids({ imageIds: ["c", "a"] })).toEqual(["a-1", "a0", "c0"]);
      expect(await ids({ minArea: 500, kind: "region" })).toEqual(["b0", "c0"]);
      expect(await ids({ imageIds: ["a", "b"], minArea: 100, kind: "region" })).toEqual(["b0"]);
      expect(await ids({ imageIds: [] })).toEqual([]);
      expect(await store.count("t", { kind: "region", minArea: 500 })).toBe(2);
    });

    it("groupByImage keeps each image's best region, even when one image dominates the top hits", async () => {
      const many = Array.from({ length: 30 }, (_, i) =>
        point("t", "dominant", i, unit(1, 0.01 * i)),
      );
      await store.upsert("t", [
        ...many,
        point("t", "second", 0, unit(1, 1)),
        point("t", "third", 0, unit(0, 1)),
      ]);
      const hits = await store.search("t", unit(1), { limit: 3, groupByImage: true });
      expect(hits.map((h) => h.payload.imageId)).toEqual(["dominant", "second", "third"]);
      expect(hits[0]!.payload.regionIndex).toBe(0);
      expect(await store.search("t", unit(1), { limit: 2, groupByImage: true })).toHaveLength(2);
    });

    it("tenants are isolated on every call", async () => {
      await store.upsert("a", [point("a", "img", 0, unit(1)), point("a", "img", 1, unit(0, 1))]);
      await store.upsert("b", [point("b", "img", 0, unit(1))]);
      const aId = pointId("a", "img", 0, PACK);
      expect(await store.get("b", aId)).toBeNull();
      expect(
        (await store.search("b", unit(1), { limit: 10 })).map((h) => h.payload.tenant),
      ).toEqual(["b"]);
      expect(await store.listImage("b", "img")).toHaveLength(1);
      expect(await store.count("a")).toBe(2);
      expect(await store.count("c")).toBe(0);
      await store.deleteImage("b", "img");
      expect(await store.count("a")).toBe(2);
    });

    it("values with quotes cannot break out of a filter (rejected, or matching nothing)", async () => {
      await store.upsert("t", [point("t", "img", 0, unit(1))]);
      const settle = <T>(p: Promise<T>) =>
        p.then(
          (v) => v,
          () => "rejected" as const,
        );
      expect([0, "rejected"]).toContain(await settle(store.count("t' OR '1'='1")));
      expect([[], "rejected"]).toContainEqual(
        await settle(store.search("t' OR '1'='1", unit(1), { limit: 5 })),
      );
      expect([[], "rejected"]).toContainEqual(await settle(store.listImage("t", "x' OR '1'='1")));
      expect([null, "rejected"]).toContain(await settle(store.get("t", "' OR 1=1 --")));
      await settle(store.deleteImage("t", "x' OR '1'='1"));
      await settle(store.deleteImage("t", "other", ["' OR 1=1 --"]));
      expect(await store.count("t")).toBe(1);
    });

    it("scan pages through one tenant's points in id order, vectors included, from any cursor", async () => {
      const mine = [-1, 0, 1, 2].flatMap((i) => [
        point("t", "a", i, unit(1, i)),
        point("t", "b", i, unit(i, 1)),
      ]);
      await store.upsert("t", mine);
      await store.upsert("u", [point("u", "a", 0, unit(1))]);
      const ids = mine.map((p) => p.id).sort();
      const pages: string[][] = [];
      // Bounded, so a store that ignores the cursor fails here instead of looping forever.
      for (let after: string | undefined; pages.length < 10;) {
        const page = await store.scan!("t", { limit: 3, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(3);
        pages.push(page.map((p) => p.id));
        after = page.at(-1)!.id;
      }
      expect(pages.flat()).toEqual(ids);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);

      const [first] = await store.scan!("t", { limit: 1, after: ids[2] });
      const expected = mine.find((p) => p.id === ids[3])!;
      expect(first?.payload).toEqual(expected.payload);
      expect(Array.from(first!.vector)).toEqual(
        Array.from(expected.vector).map((x) => expect.closeTo(x, 6)),
      );

      // A cursor whose point is gone still resumes right after it; the last id ends the scan.
      const gone = mine.find((p) => p.id === ids[4])!;
      await store.deleteImage(
        "t",
        gone.payload.imageId,
        mine
          .filter((p) => p.payload.imageId === gone.payload.imageId && p.id !== gone.id)
          .map((p) => p.id),
      );
      expect((await store.scan!("t", { limit: 10, after: ids[4] })).map((p) => p.id)).toEqual(
        ids.slice(5),
      );
      expect(await store.scan!("t", { limit: 10, after: ids.at(-1) })).toEqual([]);
      expect(await store.scan!("nobody", { limit: 10 })).toEqual([]);
    });

    if (factory.persistent)
      it("replaceImage after a reopen still removes the points an earlier open wrote", async () => {
        await store.replaceImage(
          "t",
          "img",
          [-1, 0, 1, 2].map((i) => point("t", "img", i, unit(1, i))),
        );
        await store.replaceImage("t", "gone", [point("t", "gone", 0, unit(1))]);
        await store.deleteImage("t", "gone");
        await store.close?.();
        store = await factory.open(dir);
        await store.replaceImage(
          "t",
          "img",
          [-1, 5].map((i) => point("t", "img", i, unit(0, 1, i))),
        );
        expect((await store.listImage("t", "img")).map((p) => p.payload.regionIndex)).toEqual([
          -1, 5,
        ]);
        await store.replaceImage("t", "gone", [point("t", "gone", 3, unit(1))]);
        expect((await store.listImage("t", "gone")).map((p) => p.payload.regionIndex)).toEqual([3]);
        expect(await store.count("t")).toBe(3);
      });

    // Only stores that keep data on disk have a restart to survive; in-memory ones don't register it.
    if (factory.persistent)
      it("writes survive closing and reopening the same directory", async () => {
        await store.upsert("t", [point("t", "img", -1, unit(1)), point("t", "img", 0, unit(0, 1))]);
        await store.deleteImage("t", "img", [pointId("t", "img", 0, PACK)]);
        await store.close?.();
        store = await factory.open(dir);
        expect((await store.listImage("t", "img")).map((p) => p.payload.regionIndex)).toEqual([0]);
        expect((await store.search("t", unit(0, 1), { limit: 1 }))[0]?.score).toBeCloseTo(1, 4);
        await store.upsert("t", [point("t", "img", 1, unit(1, 1))]);
        expect(await store.count("t")).toBe(2);
      });
    metadataConformance(() => store);
  });
}
