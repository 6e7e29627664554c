/** copyIndex: every point of the listed tenants, page by page, resumable, never duplicating. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyIndex, type CopyCheckpoint, type CopyProgress } from "../../src/lib/store/copy.js";
import { createQdrantStore } from "../../src/lib/store/qdrant/index.js";
import type { StoredPoint, VectorStore } from "../../src/lib/store/types.js";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { point, unit } from "./conformance.js";
import { MemoryVectorStore } from "./memory-store.js";
import { FakeQdrant } from "./qdrant-fake.js";

/** 10 points of tenant a, 4 of b, 3 of c (not copied unless listed). */
async function source(): Promise<MemoryVectorStore> {
  const s = new MemoryVectorStore();
  await s.upsert(
    "a",
    [0, 1].flatMap((img) =>
      [-1, 0, 1, 2, 3].map((i) => point("a", `img${img}`, i, unit(1, i, img))),
    ),
  );
  await s.upsert(
    "b",
    [-1, 0, 1, 2].map((i) => point("b", "x", i, unit(i, 1))),
  );
  await s.upsert(
    "c",
    [-1, 0, 1].map((i) => point("c", "y", i, unit(0, i, 1))),
  );
  return s;
}

const sorted = (points: Iterable<StoredPoint>) =>
  [...points].sort((x, y) => (x.id < y.id ? -1 : 1));

/** A target that fails its `failOn`-th upsert (an interrupted copy), recording every point it wrote. */
class FlakyTarget extends MemoryVectorStore {
  upserts = 0;
  written: string[] = [];
  constructor(private readonly failOn: number) {
    super();
  }
  override async upsert(tenant: string, points: StoredPoint[]): Promise<void> {
    if (++this.upserts === this.failOn) throw new Error("connection reset (injected)");
    this.written.push(...points.map((p) => p.id));
    await super.upsert(tenant, points);
  }
}

describe("copyIndex", () => {
  it("copies every point of the listed tenants, vectors and payloads intact, reporting progress", async () => {
    const from = await source();
    const to = new MemoryVectorStore();
    const progress: CopyProgress[] = [];
    const result = await copyIndex(from, to, {
      tenants: ["a", "b"],
      batchSize: 4,
      onProgress: (p) => void progress.push(p),
    });
    expect(result).toEqual({ copied: 14, perTenant: { a: 10, b: 4 } });
    for (const t of ["a", "b"])
      expect(sorted(await to.scan(t, { limit: 100 }))).toEqual(
        sorted(await from.scan(t, { limit: 100 })),
      );
    expect(await to.count("c")).toBe(0);
    // Pages of 4 in id order: a → 4, 8, 10; b → 4 (a full page, then an empty scan ends it).
    expect(progress.map((p) => [p.tenant, p.tenantCopied, p.copied])).toEqual([
      ["a", 4, 4],
      ["a", 8, 8],
      ["a", 10, 10],
      ["b", 4, 14],
      ["b", 0, 14],
    ]);
    const aIds = sorted(await from.scan("a", { limit: 100 })).map((p) => p.id);
    expect(progress[1]!.checkpoint).toEqual({ tenant: "a", after: aIds[7] });
    expect(progress.at(-1)!.checkpoint).toBeNull();
  });

  it("an interrupted copy resumes from its last checkpoint, rewriting nothing; a full re-run duplicates nothing", async () => {
    const from = await source();
    const to = new FlakyTarget(3);
    let checkpoint: CopyCheckpoint | undefined;
    const save = (p: CopyProgress) => void (checkpoint = p.checkpoint ?? undefined);
    await expect(
      copyIndex(from, to, { tenants: ["a", "b"], batchSize: 4, onProgress: save }),
    ).rejects.toThrow(/injected/);
    expect(to.written).toHaveLength(8);
    expect(checkpoint?.tenant).toBe("a");

    const resumed = await copyIndex(from, to, {
      tenants: ["a", "b"],
      batchSize: 4,
      resume: checkpoint!,
      onProgress: save,
    });
    expect(resumed.perTenant).toEqual({ a: 2, b: 4 });
    // Each point written exactly once across both runs.
    expect(to.written).toHaveLength(14);
    expect(new Set(to.written).size).toBe(14);

    await copyIndex(from, to, { tenants: ["a", "b"] });
    expect([await to.count("a"), await to.count("b")]).toEqual([10, 4]);
  });

  it("a checkpoint between tenants goes on with the next tenant", async () => {
    const from = await source();
    const to = new MemoryVectorStore();
    const last = sorted(await from.scan("a", { limit: 100 })).at(-1)!.id;
    const result = await copyIndex(from, to, {
      tenants: ["a", "b"],
      resume: { tenant: "a", after: last },
    });
    expect(result.perTenant).toEqual({ a: 0, b: 4 });
  });

  it("refuses what it cannot do right: no scan, a foreign checkpoint, a source paging out of order, an abort", async () => {
    const from = await source();
    const to = new MemoryVectorStore();
    const { scan: _scan, ...rest } = Object.fromEntries(
      (
        [
          "upsert",
          "deleteImage",
          "replaceImage",
          "search",
          "get",
          "listImage",
          "count",
          "scan",
        ] as const
      ).map((k) => [k, from[k].bind(from)]),
    ) as unknown as Required<VectorStore>;
    await expect(copyIndex(rest as VectorStore, to, { tenants: ["a"] })).rejects.toThrow(
      /cannot be scanned/,
    );
    await expect(copyIndex(from, to, { tenants: ["a"], resume: { tenant: "zz" } })).rejects.toThrow(
      /tenant "zz"/,
    );
    await expect(copyIndex(from, to, { tenants: ["a", "a"] })).rejects.toThrow(/once/);
    const looping = Object.assign(Object.create(from) as MemoryVectorStore, {
      scan: () => from.scan("a", { limit: 2 }),
    });
    await expect(copyIndex(looping, to, { tenants: ["a"], batchSize: 2 })).rejects.toThrow(
      /at or before the cursor/,
    );
    const abort = new AbortController();
    abort.abort();
    await expect(
      copyIndex(from, new MemoryVectorStore(), { tenants: ["a"], signal: abort.signal }),
    ).rejects.toThrow();
  });
});

describe("copyIndex between real stores: embedded (LanceDB) → Qdrant (fake, OpenAPI-checked)", () => {
  let fake: FakeQdrant;
  let dir: string;
  beforeAll(async () => {
    fake = await FakeQdrant.start();
    dir = await mkdtemp(path.join(tmpdir(), "rs-copy-"));
  });
  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("copies, and searches on the target find what they found on the source", async () => {
    const lance = await LanceVectorStore.open({ dir });
    const mem = await source();
    for (const t of ["a", "b"]) await lance.upsert(t, await mem.scan(t, { limit: 100 }));
    const qdrant = await createQdrantStore({
      url: fake.url,
      collection: "copied",
      dim: 8,
      retry: { baseDelayMs: 1 },
    });
    const result = await copyIndex(lance, qdrant, { tenants: ["a", "b"], batchSize: 3 });
    expect(result.copied).toBe(14);
    for (const t of ["a", "b"]) {
      const q = unit(1, 2, 1);
      const strip = (hits: Awaited<ReturnType<VectorStore["search"]>>) =>
        hits.map((h) => [h.id, h.payload, h.score.toFixed(4)]);
      expect(strip(await qdrant.search(t, q, { limit: 5 }))).toEqual(
        strip(await lance.search(t, q, { limit: 5 })),
      );
      expect(sorted(await qdrant.scan(t, { limit: 100 })).map((p) => p.payload)).toEqual(
        sorted(await lance.scan(t, { limit: 100 })).map((p) => p.payload),
      );
    }
    expect(fake.requests.flatMap((r) => r.errors)).toEqual([]);
    await lance.close();
  });
});
