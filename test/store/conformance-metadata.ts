/**
 * Metadata conformance (docs/search.md#filters): names and metadata round-trip, every filter form
 * selects the same images on every store (checked against hand-written expectations and the
 * reference evaluator), PATCH-style updates reach every point of the image and nothing else, and
 * no value can break out of a filter (property test). Registered by `vectorStoreConformance`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchesMetadata, parseMetadataFilter } from "../../src/lib/metadata/index.js";
import type {
  Metadata,
  MetadataFilter,
  StoredPoint,
  VectorStore,
} from "../../src/lib/store/types.js";
import { point, unit } from "./conformance.js";

const LIBRARY: Record<string, Metadata | undefined> = {
  A: {
    cat: "dress",
    price: 19.5,
    tags: ["red", "summer"],
    inStock: true,
    qty: 3,
    taken: "2024-05-01T10:00:00Z",
  },
  B: { cat: "shoe", price: 59, tags: [], inStock: false, qty: 10, taken: "2023-12-31" },
  C: { cat: "dress", price: 120, tags: ["blue"], note: `O'Neil \\ "quoted" ') OR true --` },
  D: undefined,
  E: { cat: "hat", qty: 3.5, tags: ["red"] },
};

/** Filter → the images it selects, written by hand from Qdrant's documented semantics. */
const CASES: [string, unknown, string[]][] = [
  ["match value", { must: [{ key: "cat", match: { value: "dress" } }] }, ["A", "C"]],
  ["match any", { must: [{ key: "cat", match: { any: ["shoe", "hat"] } }] }, ["B", "E"]],
  ["match in an array", { must: [{ key: "tags", match: { value: "red" } }] }, ["A", "E"]],
  [
    "must_not (missing key passes)",
    { must_not: [{ key: "tags", match: { value: "red" } }] },
    ["B", "C", "D"],
  ],
  ["range gte", { must: [{ key: "price", range: { gte: 59 } }] }, ["B", "C"]],
  ["range lt", { must: [{ key: "price", range: { lt: 20 } }] }, ["A"]],
  ["range gt+lte", { must: [{ key: "price", range: { gt: 19.5, lte: 59 } }] }, ["B"]],
  ["integer match skips fractions", { must: [{ key: "qty", match: { value: 3 } }] }, ["A"]],
  ["integers any", { must: [{ key: "qty", match: { any: [3, 10] } }] }, ["A", "B"]],
  ["string never matches a number", { must: [{ key: "qty", match: { value: "3" } }] }, []],
  ["bool true", { must: [{ key: "inStock", match: { value: true } }] }, ["A"]],
  ["bool false", { must: [{ key: "inStock", match: { value: false } }] }, ["B"]],
  ["is_empty: [] or missing", { must: [{ is_empty: { key: "tags" } }] }, ["B", "D"]],
  ["is_empty of a rare key", { must: [{ is_empty: { key: "note" } }] }, ["A", "B", "D", "E"]],
  ["is_null: no nulls stored", { must: [{ is_null: { key: "cat" } }] }, []],
  ["date range", { must: [{ key: "taken", range: { gte: "2024-01-01T00:00:00Z" } }] }, ["A"]],
  ["date range, short form", { must: [{ key: "taken", range: { lt: "2024-01-01" } }] }, ["B"]],
  [
    "should",
    {
      should: [
        { key: "cat", match: { value: "shoe" } },
        { key: "price", range: { gte: 100 } },
      ],
    },
    ["B", "C"],
  ],
  [
    "nested",
    {
      must: [{ key: "cat", match: { value: "dress" } }],
      must_not: [{ should: [{ key: "tags", match: { value: "blue" } }] }],
    },
    ["A"],
  ],
  ["quotes are values", { must: [{ key: "note", match: { value: LIBRARY.C!.note } }] }, ["C"]],
  ["must_not value", { must_not: [{ key: "cat", match: { value: "dress" } }] }, ["B", "D", "E"]],
  ["empty filter", {}, ["A", "B", "C", "D", "E"]],
];

function imagePoints(tenant: string, id: string, i: number, metadata?: Metadata): StoredPoint[] {
  const fields = (p: StoredPoint): StoredPoint => ({
    ...p,
    payload: { ...p.payload, name: `${id}.jpg`, ...(metadata ? { metadata } : {}) },
  });
  return [point(tenant, id, -1, unit(1, i)), point(tenant, id, 0, unit(1, i, 1))].map(fields);
}

async function loadLibrary(store: VectorStore, tenant = "t"): Promise<void> {
  let i = 0;
  for (const [id, metadata] of Object.entries(LIBRARY))
    await store.replaceImage(tenant, id, imagePoints(tenant, id, i++, metadata));
}

async function imagesMatching(store: VectorStore, filter: MetadataFilter, tenant = "t") {
  const hits = await store.search(tenant, unit(1), {
    limit: 100,
    filter: { kind: "region", metadata: filter },
  });
  return hits.map((h) => h.payload.imageId).sort();
}

export function metadataConformance(open: () => VectorStore): void {
  describe("metadata", () => {
    it("name and metadata round-trip through get and search", async () => {
      const store = open();
      await loadLibrary(store);
      const [region] = (await store.listImage("t", "A")).filter((p) => p.payload.kind === "region");
      expect(region!.payload.name).toBe("A.jpg");
      expect(region!.payload.metadata).toEqual(LIBRARY.A);
      const hit = (await store.search("t", unit(1, 0, 1), { limit: 1 }))[0]!;
      expect(hit.payload.metadata).toEqual(LIBRARY.A);
      expect((await store.listImage("t", "D"))[0]!.payload.metadata).toBeUndefined();
    });

    it.each(CASES)("filter: %s", async (_name, raw, expected) => {
      const store = open();
      await loadLibrary(store);
      const filter = parseMetadataFilter(raw);
      const reference = Object.entries(LIBRARY)
        .filter(([, m]) => matchesMetadata(m, filter))
        .map(([id]) => id);
      expect(reference).toEqual(expected);
      expect(await imagesMatching(store, filter)).toEqual(expected);
      expect(await store.count("t", { kind: "region", metadata: filter })).toBe(expected.length);
    });

    it("filters never cross tenants", async () => {
      const store = open();
      await loadLibrary(store, "t");
      await loadLibrary(store, "u");
      const hits = await store.search("u", unit(1), {
        limit: 100,
        filter: {
          metadata: parseMetadataFilter({ must: [{ key: "cat", match: { value: "dress" } }] }),
        },
      });
      expect(new Set(hits.map((h) => h.payload.tenant))).toEqual(new Set(["u"]));
      expect(hits).toHaveLength(4);
    });

    it("setImageFields rewrites every point of that image only, vectors untouched", async () => {
      const store = open();
      await loadLibrary(store, "t");
      await loadLibrary(store, "u");
      const before = await store.listImage("t", "B", true);
      await store.setImageFields("t", "B", { name: "renamed", metadata: { cat: "dress", qty: 4 } });
      const after = await store.listImage("t", "B", true);
      expect(after.map((p) => p.payload.name)).toEqual(["renamed", "renamed"]);
      expect(after.map((p) => p.payload.metadata)).toEqual([
        { cat: "dress", qty: 4 },
        { cat: "dress", qty: 4 },
      ]);
      expect(after.map((p) => Array.from(p.vector))).toEqual(
        before.map((p) => Array.from(p.vector)),
      );
      const dress = parseMetadataFilter({ must: [{ key: "cat", match: { value: "dress" } }] });
      expect(await imagesMatching(store, dress)).toEqual(["A", "B", "C"]);
      expect(await imagesMatching(store, dress, "u")).toEqual(["A", "C"]);
      // Removing the name and every key: nothing of the old fields is left to match.
      await store.setImageFields("t", "B", { metadata: {} });
      const cleared = await store.listImage("t", "B");
      expect(cleared[0]!.payload.name).toBeUndefined();
      expect(await imagesMatching(store, dress)).toEqual(["A", "C"]);
      expect(
        await imagesMatching(store, parseMetadataFilter({ must: [{ is_empty: { key: "qty" } }] })),
      ).toEqual(["B", "C", "D"]);
    });

    it("property: any string value matches exactly its own images, and cannot break out", async () => {
      const store = open();
      const text = fc
        .string({ unit: "binary", maxLength: 24 })
        .filter((s) => !/[\uD800-\uDFFF]/.test(s));
      const quoteHeavy = fc.constantFrom(
        "'",
        "''",
        "\\",
        "\\'",
        "' OR true --",
        "%",
        "_",
        "\u0000",
        "\n",
        '"',
        "]",
        ")",
      );
      const value = fc.oneof(
        text,
        quoteHeavy,
        fc.array(quoteHeavy, { maxLength: 4 }).map((a) => a.join("")),
      );
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(value, { minLength: 2, maxLength: 4 }), async (values) => {
          const tenant = `p${round++}`;
          for (const [i, v] of values.entries())
            await store.replaceImage(
              tenant,
              `img${i}`,
              imagePoints(tenant, `img${i}`, i, { v, w: [v] }),
            );
          for (const [i, v] of values.entries()) {
            const hit = await imagesMatching(
              store,
              { must: [{ key: "v", match: { value: v } }] },
              tenant,
            );
            expect(hit).toEqual([`img${i}`]);
            const arr = await imagesMatching(
              store,
              { must: [{ key: "w", match: { any: [v] } }] },
              tenant,
            );
            expect(arr).toEqual([`img${i}`]);
            const not = await imagesMatching(
              store,
              { must_not: [{ key: "v", match: { value: v } }] },
              tenant,
            );
            expect(not).toHaveLength(values.length - 1);
          }
        }),
        { numRuns: 15 },
      );
    });
  });
}
