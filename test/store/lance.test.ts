import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as lancedb from "@lancedb/lancedb";
import { describe, expect, it } from "vitest";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { DIM, point, unit, vectorStoreConformance } from "./conformance.js";

vectorStoreConformance("LanceDB", {
  open: (dir) => LanceVectorStore.open({ dir }),
  persistent: true,
});

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
        return point(
          tenant,
          `img${Math.floor(i / 10)}`,
          i % 10,
          unit(...Array.from({ length: DIM }, rnd)),
          { area: i },
        );
      });
      await store.upsert("a", pts.filter((p) => p.payload.tenant === "a").slice(0, 200));
      expect(store.hasVectorIndex).toBe(false);
      await store.upsert("a", pts.filter((p) => p.payload.tenant === "a").slice(200));
      await store.upsert(
        "b",
        pts.filter((p) => p.payload.tenant === "b"),
      );
      expect(store.hasVectorIndex).toBe(true);
      const target = pts[501]!;
      const hits = await store.search("a", target.vector, {
        limit: 5,
        filter: { kind: "region", minArea: 100 },
      });
      expect(hits[0]?.id).toBe(target.id);
      expect(hits[0]?.score).toBeCloseTo(1, 3);
      expect(hits.every((h) => h.payload.tenant === "a" && h.payload.area >= 100)).toBe(true);
      expect(
        await store
          .search("b", target.vector, { limit: 50 })
          .then((h) => h.some((x) => x.id === target.id)),
      ).toBe(false);
      await store.close();
      const reopened = await LanceVectorStore.open({ dir, indexThreshold: 600 });
      expect(reopened.hasVectorIndex).toBe(true);
      expect(await reopened.count("a")).toBe(350);
      // With the BTree index on id, scan still pages in id order from its cursor.
      const aIds = pts
        .filter((p) => p.payload.tenant === "a")
        .map((p) => p.id)
        .sort();
      const first = await reopened.scan("a", { limit: 50 });
      expect(first.map((p) => p.id)).toEqual(aIds.slice(0, 50));
      expect(
        (await reopened.scan("a", { limit: 50, after: first.at(-1)!.id })).map((p) => p.id),
      ).toEqual(aIds.slice(50, 100));
      await reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("LanceDB commits per image write", () => {
  /** The table's latest version, read through a connection of its own. */
  const version = async (dir: string) =>
    (await (await lancedb.connect(dir)).openTable("points")).version();

  it("writes an image that has no rows with one append, and replaces one that has with upsert + delete", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "rs-lance-"));
    let store = await LanceVectorStore.open({ dir });
    try {
      await store.replaceImage("t", "first", [point("t", "first", 0, unit(1))]); // creates the table
      const commits = async (write: () => Promise<void>) => {
        const before = await version(dir);
        await write();
        return (await version(dir)) - before;
      };
      expect(
        await commits(() =>
          store.replaceImage(
            "t",
            "a",
            [0, 1, 2].map((i) => point("t", "a", i, unit(1, i))),
          ),
        ),
      ).toBe(1);
      expect(
        await commits(() =>
          store.replaceImage(
            "t",
            "a",
            [0, 1].map((i) => point("t", "a", i, unit(0, 1, i))),
          ),
        ),
      ).toBe(2);
      expect((await store.listImage("t", "a")).map((p) => p.payload.regionIndex)).toEqual([0, 1]);
      // Another tenant's image of the same id is another image.
      expect(await commits(() => store.replaceImage("u", "a", [point("u", "a", 0, unit(1))]))).toBe(
        1,
      );
      await store.deleteImage("t", "a");
      expect(await commits(() => store.replaceImage("t", "a", [point("t", "a", 4, unit(1))]))).toBe(
        1,
      );
      // Keeping some rows leaves the image present: the next write takes both commits again.
      await store.deleteImage("t", "a", [point("t", "a", 4, unit(1)).id]);
      expect(await commits(() => store.replaceImage("t", "a", [point("t", "a", 4, unit(1))]))).toBe(
        2,
      );
      // After a reopen, what is on disk counts as present (the load) and a new image is one append.
      await store.close();
      store = await LanceVectorStore.open({ dir });
      expect(await commits(() => store.replaceImage("t", "a", [point("t", "a", 6, unit(1))]))).toBe(
        2,
      );
      expect((await store.listImage("t", "a")).map((p) => p.payload.regionIndex)).toEqual([6]);
      expect(await commits(() => store.replaceImage("t", "b", [point("t", "b", 0, unit(1))]))).toBe(
        1,
      );
      expect(await store.count("t")).toBe(3);
      expect(await store.count("u")).toBe(1);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
