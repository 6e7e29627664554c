/**
 * Store-specific metadata behaviour beyond the conformance suite: what the Qdrant adapter sends
 * (user keys under `metadata.`, nested inside the tenant filter; `set_payload` scoped to tenant and
 * image; payload indexes for METADATA_INDEXES), and LanceDB tables written before metadata existed.
 */
import * as lancedb from "@lancedb/lancedb";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMetadataFilter } from "../../src/lib/metadata/index.js";
import { runVectorOp, VectorOp } from "../../src/lib/remote/vectors.js";
import { createQdrantStore } from "../../src/lib/store/qdrant/index.js";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { COLUMNS_NO_VECTOR, toRow } from "../../src/node/store/lance-rows.js";
import { DIM, point, unit } from "./conformance.js";
import { MemoryVectorStore } from "./memory-store.js";
import { FakeQdrant } from "./qdrant-fake.js";

describe("Qdrant adapter", () => {
  let fake: FakeQdrant;
  beforeAll(async () => {
    fake = await FakeQdrant.start();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("sends user keys under metadata., inside the tenant filter, and indexes declared keys", async () => {
    const store = await createQdrantStore({
      url: fake.url,
      collection: "meta",
      dim: DIM,
      metadataIndexes: [
        { key: "sku", type: "keyword" },
        { key: "price", type: "float" },
      ],
    });
    expect(store.bootstrap?.indexesCreated).toEqual(
      expect.arrayContaining(["metadata.sku", "metadata.price"]),
    );
    const indexes = fake.engine.resolve("meta").indexes;
    expect(indexes["metadata.sku"]?.data_type).toBe("keyword");
    expect(indexes["metadata.price"]?.data_type).toBe("float");

    // A user key named like one of ours addresses the user's field, never ours.
    const p = point("t", "img", 0, unit(1));
    p.payload.metadata = { tenant: "u", image_id: "x" };
    await store.upsert("t", [p]);
    const filter = parseMetadataFilter({ must: [{ key: "tenant", match: { value: "u" } }] });
    fake.requests.length = 0;
    const hits = await store.search("t", unit(1), { limit: 5, filter: { metadata: filter } });
    expect(hits.map((h) => h.payload.tenant)).toEqual(["t"]);
    const body = fake.requests.find((r) => r.operationId === "query_points")!.body as {
      filter: { must: unknown[] };
    };
    expect(body.filter.must).toEqual([
      { key: "tenant", match: { value: "t" } },
      { must: [{ key: "metadata.tenant", match: { value: "u" } }] },
    ]);
    expect(await store.search("u", unit(1), { limit: 5, filter: { metadata: filter } })).toEqual(
      [],
    );

    fake.requests.length = 0;
    await store.setImageFields("t", "img", { metadata: { a: 1 } });
    const set = fake.requests.find((r) => r.operationId === "set_payload")!.body as {
      payload: unknown;
      filter: unknown;
    };
    expect(set.payload).toEqual({ name: null, metadata: { a: 1 } });
    expect(set.filter).toEqual({
      must: [
        { key: "tenant", match: { value: "t" } },
        { key: "image_id", match: { value: "img" } },
      ],
    });
    // Every request above matched Qdrant's OpenAPI document (the fake checks each one).
    expect(fake.requests.flatMap((r) => r.errors)).toEqual([]);
  });

  it("date-time bounds go out as RFC 3339 UTC", async () => {
    const store = await createQdrantStore({ url: fake.url, collection: "dates", dim: DIM });
    fake.requests.length = 0;
    const filter = parseMetadataFilter({ must: [{ key: "taken", range: { gte: "2024-05-01" } }] });
    await store.search("t", unit(1), { limit: 1, filter: { metadata: filter } });
    const body = fake.requests.find((r) => r.operationId === "query_points")!.body as {
      filter: { must: { must: unknown[] }[] };
    };
    expect(body.filter.must[1]!.must).toEqual([
      { key: "metadata.taken", range: { gte: "2024-05-01T00:00:00.000Z" } },
    ]);
  });
});

describe("LanceDB table written before metadata existed", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "rs-lance-old-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gets the columns when opened; old rows read without metadata, filter and update like new ones", async () => {
    // The old layout: the first eight columns only.
    const db = await lancedb.connect(dir);
    const row = toRow(point("t", "old", 0, unit(1)));
    const oldRow = Object.fromEntries(
      Object.entries(row).filter(([k]) => [...COLUMNS_NO_VECTOR.slice(0, 7), "vector"].includes(k)),
    );
    const table = await db.createTable("points", [oldRow]);
    expect((await table.schema()).fields.map((f) => f.name)).not.toContain("metadata");
    table.close();
    db.close();

    const store = await LanceVectorStore.open({ dir });
    const [p] = await store.listImage("t", "old");
    expect(p!.payload.metadata).toBeUndefined();
    const empty = parseMetadataFilter({ must: [{ is_empty: { key: "sku" } }] });
    const sku = parseMetadataFilter({ must: [{ key: "sku", match: { value: "A" } }] });
    const notSku = parseMetadataFilter({ must_not: [{ key: "sku", match: { value: "A" } }] });
    const search = (metadata: typeof sku) =>
      store.search("t", unit(1), { limit: 5, filter: { metadata } });
    expect(await search(empty)).toHaveLength(1);
    expect(await search(sku)).toHaveLength(0);
    expect(await search(notSku)).toHaveLength(1);
    await store.setImageFields("t", "old", { name: "old.png", metadata: { sku: "A" } });
    expect(await search(sku)).toHaveLength(1);
    expect((await store.listImage("t", "old"))[0]!.payload.name).toBe("old.png");
    await store.replaceImage("t", "new", [point("t", "new", 0, unit(1, 1))]);
    expect(await store.count("t")).toBe(2);
    await store.close();
  });
});

describe("vector RPC (gateway → query function)", () => {
  it("carries the metadata filter and setImageFields; a bad filter is refused, not dropped", async () => {
    const store = new MemoryVectorStore();
    const a = point("t", "a", 0, unit(1));
    a.payload.metadata = { cat: "dress" };
    await store.upsert("t", [a, point("t", "b", 0, unit(1, 1))]);
    const filter = { must: [{ key: "cat", match: { value: "dress" } }] };
    const search = VectorOp.parse({
      op: "search",
      tenant: "t",
      vector: Array.from(unit(1)),
      options: { limit: 5, filter: { metadata: filter } },
    });
    const { result } = await runVectorOp(store, search);
    expect((result as { payload: { imageId: string } }[]).map((h) => h.payload.imageId)).toEqual([
      "a",
    ]);
    const bad = {
      ...search,
      options: { limit: 5, filter: { metadata: { must: [{ key: "a.b" }] } } },
    };
    expect(VectorOp.safeParse(bad).success).toBe(false);
    await runVectorOp(
      store,
      VectorOp.parse({
        op: "setImageFields",
        tenant: "t",
        imageId: "b",
        fields: { metadata: { cat: "dress" } },
      }),
    );
    expect((await runVectorOp(store, search)).result).toHaveLength(2);
  });
});
