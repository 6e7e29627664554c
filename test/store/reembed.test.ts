/**
 * The re-embed loop shared by both re-index paths (`reembedInto`, src/lib/store/reembed.ts), on the
 * in-memory reference store: what a re-run skips (only images whole in the target, same bytes), what
 * it rewrites (a partial image, even one with points), the count read back after each write, the
 * pruning of images gone from the catalog, layouts never mixed, and the count check per image.
 */
import { describe, expect, it } from "vitest";
import { pointId } from "../../src/lib/store/ids.js";
import {
  LayoutMismatchError,
  reembedInto,
  verifyCounts,
  type ImageToReembed,
  type Ledger,
} from "../../src/lib/store/reembed.js";
import type { StoredPoint } from "../../src/lib/store/types.js";
import { point, unit } from "./conformance.js";
import { MemoryVectorStore } from "./memory-store.js";

/** The ledger's key of an image: `tenant/imageId` (src/lib/store/reembed.ts). */
const imageKey = (tenant: string, imageId: string): string => `${tenant}/${imageId}`;

const PACK = "next@2";
const IMAGES: ImageToReembed[] = [
  { tenant: "t", imageId: "a", sha256: "sa" },
  { tenant: "t", imageId: "b", sha256: "sb" },
  { tenant: "u", imageId: "c", sha256: "sc" },
];
/** regions + 1 per image: 2, 3, 4 points. */
const SIZE: Record<string, number> = { "t/a": 2, "t/b": 3, "u/c": 4 };

function pointsOf(ref: ImageToReembed, pack = PACK, dim?: number): StoredPoint[] {
  return Array.from({ length: SIZE[imageKey(ref.tenant, ref.imageId)]! }, (_, k) => {
    const p = point(ref.tenant, ref.imageId, k - 1, unit(1, k));
    const vector = dim === undefined ? p.vector : new Float32Array(dim).fill(1);
    return {
      ...p,
      vector,
      id: pointId(ref.tenant, ref.imageId, k - 1, pack),
      payload: { ...p.payload, pack },
    };
  });
}

function run(
  store: MemoryVectorStore,
  o: {
    ledger?: Ledger;
    images?: ImageToReembed[];
    calls?: string[];
    embed?: (ref: ImageToReembed) => Promise<StoredPoint[]>;
  } = {},
) {
  return reembedInto(store, {
    pack: PACK,
    dim: 8,
    images: () => o.images ?? IMAGES,
    embed:
      o.embed ?? (async (ref) => (o.calls?.push(imageKey(ref.tenant, ref.imageId)), pointsOf(ref))),
    ...(o.ledger ? { ledger: o.ledger } : {}),
    pruneTenants: ["t", "u"],
  });
}

describe("reembedInto", () => {
  it("writes every image, records its point count and bytes, and a re-run with the ledger skips them all", async () => {
    const store = new MemoryVectorStore();
    const first = await run(store);
    expect(first).toMatchObject({ images: 3, embedded: 3, skipped: 0, points: 9 });
    expect(first.ledger).toEqual({
      "t/a": { points: 2, sha256: "sa" },
      "t/b": { points: 3, sha256: "sb" },
      "u/c": { points: 4, sha256: "sc" },
    });
    const calls: string[] = [];
    expect(await run(store, { ledger: first.ledger, calls })).toMatchObject({
      embedded: 0,
      skipped: 3,
    });
    expect(calls).toEqual([]);
  });

  it("rewrites an image the target holds only partly (points present but fewer than written), and one the ledger lacks", async () => {
    const store = new MemoryVectorStore();
    const { ledger } = await run(store);
    // t/b keeps 1 of its 3 points; u/c is whole but was never recorded (crash before the state was saved).
    const b = [...store.points.entries()].filter(([, p]) => p.payload.imageId === "b");
    for (const [key] of b.slice(1)) store.points.delete(key);
    delete ledger["u/c"];
    const calls: string[] = [];
    const r = await run(store, { ledger, calls });
    expect(calls).toEqual(["t/b", "u/c"]);
    expect(r).toMatchObject({ embedded: 2, skipped: 1 });
    expect(await store.count("t", { imageIds: ["b"] })).toBe(3);
  });

  it("without a ledger nothing is taken as done, whatever the target holds", async () => {
    const store = new MemoryVectorStore();
    await run(store);
    const calls: string[] = [];
    expect(await run(store, { calls })).toMatchObject({ embedded: 3, skipped: 0 });
    expect(calls).toEqual(["t/a", "t/b", "u/c"]);
  });

  it("re-embeds an image whose bytes changed under its id, and removes images the catalog no longer lists", async () => {
    const store = new MemoryVectorStore();
    const { ledger } = await run(store);
    const calls: string[] = [];
    const r = await run(store, {
      ledger,
      calls,
      images: [{ ...IMAGES[0]!, sha256: "other bytes" }, IMAGES[2]!],
    });
    expect(calls).toEqual(["t/a"]);
    expect(r).toMatchObject({ embedded: 1, skipped: 1, pruned: 1 });
    expect(await store.count("t", { imageIds: ["b"] })).toBe(0);
    expect(Object.keys(ledger).sort()).toEqual(["t/a", "u/c"]);
  });

  it("fails at an image whose points do not all read back", async () => {
    const store = new MemoryVectorStore();
    const replace = store.replaceImage.bind(store);
    store.replaceImage = async (tenant, imageId, points) =>
      replace(tenant, imageId, imageId === "b" ? points.slice(1) : points);
    await expect(run(store)).rejects.toThrow(
      "image t/b: wrote 3 points but the target holds 2 of them",
    );
  });

  it("refuses points of another pack or vector length before writing them", async () => {
    const store = new MemoryVectorStore();
    const wrongPack = run(store, {
      embed: async (ref) => pointsOf(ref, ref.imageId === "b" ? "old@1" : PACK),
    });
    await expect(wrongPack).rejects.toThrow(LayoutMismatchError);
    await expect(
      run(new MemoryVectorStore(), { embed: async (ref) => pointsOf(ref, PACK, 16) }),
    ).rejects.toThrow(
      "refusing to mix layouts: image t/a produced a 16-dimensional point of model pack next@2, but this re-index writes 8-dimensional points of next@2",
    );
    expect(await store.count("t", { imageIds: ["b"] })).toBe(0);
  });
});

describe("verifyCounts", () => {
  it("names each image whose stored count differs from what was written", async () => {
    const store = new MemoryVectorStore();
    const { ledger } = await run(store);
    expect(await verifyCounts(store, ledger, ["t", "u"])).toEqual([]);
    const [key] = [...store.points.entries()].find(([, p]) => p.payload.imageId === "c")!;
    store.points.delete(key);
    expect(await verifyCounts(store, ledger, ["t", "u"])).toEqual([
      { key: "u/c", expected: 4, stored: 3 },
    ]);
    // With one read of the whole target, images the ledger does not have count too.
    await store.upsert("t", [point("t", "zz", 0, unit(1))]);
    const counts = async () => {
      const m = new Map<string, number>();
      for (const p of store.points.values())
        m.set(
          imageKey(p.payload.tenant, p.payload.imageId),
          (m.get(imageKey(p.payload.tenant, p.payload.imageId)) ?? 0) + 1,
        );
      return m;
    };
    expect(await verifyCounts(store, ledger, ["t", "u"], counts)).toEqual([
      { key: "u/c", expected: 4, stored: 3 },
      { key: "t/zz", expected: 0, stored: 1 },
    ]);
  });
});
