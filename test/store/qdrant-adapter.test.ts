/**
 * Qdrant adapter behaviour beyond the shared conformance suite: bootstrap, mismatch errors, error
 * mapping and retries (failures injected by the fake Qdrant, through the real client and socket).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../src/lib/errors.js";
import {
  CollectionMismatchError,
  createQdrantStore,
  type QdrantStoreOptions,
} from "../../src/lib/store/qdrant/index.js";
import { DIM, point, unit } from "./conformance.js";
import { FakeQdrant } from "./qdrant-fake.js";

let fake: FakeQdrant;
beforeAll(async () => {
  fake = await FakeQdrant.start();
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  // Whatever a test injected and recorded, every request the adapter sent must still be valid.
  expect(fake.requests.flatMap((r) => r.errors)).toEqual([]);
});

let seq = 0;
const fresh = () => `adapter_${seq++}`;
const open = (o: Partial<QdrantStoreOptions> = {}) =>
  createQdrantStore({
    url: fake.url,
    collection: o.collection ?? fresh(),
    dim: DIM,
    retry: { baseDelayMs: 1, maxDelayMs: 50 },
    ...o,
  });
const ops = (op: string) => fake.requests.filter((r) => r.operationId === op);
const rejection = async (p: Promise<unknown>): Promise<ApiError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
};

describe("Qdrant bootstrap", () => {
  it("creates the collection with the named cosine vector, HNSW params and payload indexes", async () => {
    const collection = fresh();
    const store = await open({ collection, hnsw: { m: 24, efConstruct: 200, payloadM: 12 } });
    expect(store.bootstrap).toMatchObject({
      created: true,
      serverVersion: "1.19.0",
      indexesCreated: ["tenant", "image_id", "kind", "area"],
    });
    const col = fake.engine.resolve(collection);
    expect(col.vectors).toEqual({ region: { size: DIM, distance: "Cosine" } });
    expect(col.config.hnsw_config).toEqual({ m: 24, ef_construct: 200, payload_m: 12 });
    expect(col.config.quantization_config).toBeUndefined();
    expect(col.indexes.tenant).toEqual({
      data_type: "keyword",
      params: { type: "keyword", is_tenant: true },
    });
    expect(col.indexes.area?.data_type).toBe("integer");
    expect(Object.keys(col.indexes).sort()).toEqual(["area", "image_id", "kind", "tenant"]);
  });

  it("a fresh deployment gets `<name>_v1` behind the alias `<name>`, also when 3 instances start at once", async () => {
    const collection = fresh();
    const before = fake.requests.length;
    const stores = await Promise.all([
      open({ collection }),
      open({ collection }),
      open({ collection }),
    ]);
    expect(stores.filter((s) => s.bootstrap!.created)).toHaveLength(1);
    expect(stores.map((s) => s.bootstrap!.aliasTarget)).toEqual(Array(3).fill(`${collection}_v1`));
    expect(fake.engine.aliases.get(collection)).toBe(`${collection}_v1`);
    expect(fake.engine.collections.has(collection)).toBe(false);
    expect([...fake.engine.collections.keys()].filter((n) => n.startsWith(collection))).toEqual([
      `${collection}_v1`,
    ]);
    const col = fake.engine.collections.get(`${collection}_v1`)!;
    expect(col.vectors).toEqual({ region: { size: DIM, distance: "Cosine" } });
    expect(Object.keys(col.indexes).sort()).toEqual(["area", "image_id", "kind", "tenant"]);
    // One collection create and the alias, both under the versioned / plain names; indexes through the alias.
    const since = fake.requests.slice(before);
    expect(
      new Set(since.filter((r) => r.operationId === "create_collection").map((r) => r.path)),
    ).toEqual(new Set([`/collections/${collection}_v1`]));
    expect(since.filter((r) => r.operationId === "update_aliases").map((r) => r.body)).toEqual(
      Array(3).fill({
        actions: [
          { create_alias: { alias_name: collection, collection_name: `${collection}_v1` } },
        ],
      }),
    );
    expect(
      new Set(since.filter((r) => r.operationId === "create_field_index").map((r) => r.path)),
    ).toEqual(new Set([`/collections/${collection}/index`]));

    // Later starts find the alias and change nothing.
    const beforeAgain = fake.requests.length;
    const again = await open({ collection });
    expect(again.bootstrap).toMatchObject({
      created: false,
      aliasTarget: null,
      indexesCreated: [],
    });
    expect(fake.requests.slice(beforeAgain).map((r) => r.operationId)).toEqual([
      "root",
      "get_collection",
    ]);
    await again.upsert("t", [point("t", "img", 0, unit(1))]);
    expect(await stores[1]!.count("t")).toBe(1);
    expect(col.points.size).toBe(1);
  });

  it("an existing plain collection under the name is used as it is: no alias, no `_v1`", async () => {
    const collection = fresh();
    fake.engine.create(collection, { vectors: { region: { size: DIM, distance: "Cosine" } } });
    const before = fake.requests.length;
    const store = await open({ collection });
    expect(store.bootstrap).toMatchObject({
      created: false,
      aliasTarget: null,
      indexesCreated: ["tenant", "image_id", "kind", "area"],
    });
    expect(fake.engine.aliases.has(collection)).toBe(false);
    expect(fake.engine.collections.has(`${collection}_v1`)).toBe(false);
    expect(
      fake.requests
        .slice(before)
        .filter((r) =>
          ["create_collection", "update_aliases", "delete_collection"].includes(r.operationId!),
        ),
    ).toEqual([]);
    await store.upsert("t", [point("t", "img", 0, unit(1))]);
    expect(fake.engine.collections.get(collection)!.points.size).toBe(1);
  });

  it("createAlias: false creates a plain collection under the name (re-index targets)", async () => {
    const collection = fresh();
    const store = await open({ collection, createAlias: false });
    expect(store.bootstrap).toMatchObject({ created: true, aliasTarget: null });
    expect(fake.engine.collections.has(collection)).toBe(true);
    expect(fake.engine.aliases.has(collection)).toBe(false);
  });

  it("a failed alias creation fails start-up; the next start adopts the `_v1` left behind and adds the alias", async () => {
    const collection = fresh();
    fake.fail({ operationId: "update_aliases", status: 503 });
    const before = ops("update_aliases").length;
    const err = await rejection(open({ collection }));
    expect(err.status).toBe(503);
    expect(ops("update_aliases").length - before).toBe(1); // not retried
    expect(fake.engine.collections.has(`${collection}_v1`)).toBe(true);
    expect(fake.engine.aliases.has(collection)).toBe(false);

    const store = await open({ collection });
    expect(store.bootstrap).toMatchObject({ created: false, aliasTarget: `${collection}_v1` });
    expect(fake.engine.aliases.get(collection)).toBe(`${collection}_v1`);
  });

  it("an alias creation that timed out but happened (or that another instance made meanwhile) is success", async () => {
    const collection = fresh();
    fake.fail({ operationId: "update_aliases", hang: true });
    const starting = open({ collection, timeoutMs: 300 });
    const hung = () =>
      fake.requests.some(
        (r) =>
          r.operationId === "update_aliases" &&
          r.injected &&
          JSON.stringify(r.body).includes(`"${collection}"`),
      );
    while (!hung()) await new Promise((resolve) => setTimeout(resolve, 5));
    fake.engine.updateAliases([
      { create_alias: { alias_name: collection, collection_name: `${collection}_v1` } },
    ]);
    const store = await starting;
    expect(store.bootstrap).toMatchObject({
      created: true,
      aliasTarget: `${collection}_v1`,
      indexesCreated: ["tenant", "image_id", "kind", "area"],
    });
    expect(
      ops("update_aliases").filter((r) => JSON.stringify(r.body).includes(`"${collection}"`)),
    ).toHaveLength(1);
  });

  it("a left-over `<name>_v1` of another dimension is refused before any alias makes it live", async () => {
    const collection = fresh();
    fake.engine.create(`${collection}_v1`, {
      vectors: { region: { size: DIM * 2, distance: "Cosine" } },
    });
    await expect(open({ collection })).rejects.toThrow(
      new RegExp(`"${collection}_v1" stores ${DIM * 2}-dimensional vectors`),
    );
    expect(fake.engine.aliases.has(collection)).toBe(false);
  });

  it("is safe to repeat, also when several instances start at once", async () => {
    const collection = fresh();
    const before = ops("create_collection").length;
    const stores = await Promise.all([
      open({ collection }),
      open({ collection }),
      open({ collection }),
    ]);
    expect(stores.filter((s) => s.bootstrap!.created)).toHaveLength(1);
    const again = await open({ collection });
    expect(again.bootstrap).toMatchObject({ created: false, indexesCreated: [] });
    await again.upsert("t", [point("t", "img", 0, unit(1))]);
    expect(await stores[0]!.count("t")).toBe(1);
    // Whoever lost a creation race (a 409 from the fake) re-read the collection instead of failing.
    expect(ops("create_collection").length - before).toBeGreaterThanOrEqual(1);
  });

  it("int8 quantisation: configured on create, searched with rescoring", async () => {
    const collection = fresh();
    const store = await open({ collection, quantization: true, oversampling: 3 });
    expect(fake.engine.resolve(collection).config.quantization_config).toEqual({
      scalar: { type: "int8", quantile: 0.99, memory: "pinned" },
    });
    await store.upsert("t", [point("t", "a", 0, unit(1))]);
    await store.search("t", unit(1), { limit: 1 });
    expect(ops("query_points").at(-1)!.body).toMatchObject({
      params: { quantization: { rescore: true, oversampling: 3 } },
    });
  });

  it("refuses an existing collection of another dimension or distance, and changes nothing", async () => {
    const collection = fresh();
    await open({ collection });
    const err = await open({ collection, dim: DIM * 2 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CollectionMismatchError);
    expect((err as Error).message).toMatch(
      new RegExp(`stores ${DIM}-dimensional vectors but the model pack makes ${DIM * 2}`),
    );
    expect(fake.engine.resolve(collection).vectors.region!.size).toBe(DIM);

    fake.engine.create("dot_distance", { vectors: { region: { size: DIM, distance: "Dot" } } });
    await expect(open({ collection: "dot_distance" })).rejects.toThrow(
      /uses Dot distance but region-search needs Cosine/,
    );
    fake.engine.create("unnamed_vector", { vectors: { size: DIM, distance: "Cosine" } });
    await expect(open({ collection: "unnamed_vector" })).rejects.toThrow(
      /has no named vector "region"/,
    );
    expect(ops("delete_collection")).toEqual([]);
  });

  it("sends the API key", async () => {
    const secured = await FakeQdrant.start({ apiKey: "s3cret" });
    try {
      const warn = console.warn;
      console.warn = () => undefined; // the client warns about an API key over plain http
      try {
        await expect(
          createQdrantStore({ url: secured.url, apiKey: "s3cret", collection: "k", dim: DIM }),
        ).resolves.toBeDefined();
        const err = await rejection(
          createQdrantStore({ url: secured.url, apiKey: "wrong", collection: "k", dim: DIM }),
        );
        expect(err.status).toBe(502);
      } finally {
        console.warn = warn;
      }
    } finally {
      await secured.close();
    }
  });
});

describe("Qdrant error mapping", () => {
  it("429 → 429 with Retry-After, not retried when the wait is longer than the back-off budget", async () => {
    const store = await open();
    const before = ops("query_points").length;
    fake.fail({ operationId: "query_points", status: 429, headers: { "Retry-After": "7" } });
    const err = await rejection(store.search("t", unit(1), { limit: 3 }));
    expect([err.status, err.code, err.options.headers]).toEqual([
      429,
      "rate_limited",
      { "Retry-After": "7" },
    ]);
    expect(ops("query_points").length - before).toBe(1);
  });

  it("a Qdrant 500 → 502 with the store's message on one line, trimmed", async () => {
    const store = await open();
    const before = ops("count_points").length;
    const long = `Service internal error: segment\nfailure ${"x".repeat(500)}`;
    fake.fail({
      operationId: "count_points",
      status: 500,
      body: { status: { error: long }, time: 0 },
    });
    const err = await rejection(store.count("t"));
    expect([err.status, err.code]).toEqual([502, "upstream_error"]);
    expect(err.message).toMatch(
      /^vector store error: Service internal error: segment failure x+…$/,
    );
    expect(err.message.length).toBeLessThan(240);
    expect(ops("count_points").length - before).toBe(1); // a 500 is not transient: no retry
  });

  it("a request that hangs → 503 after the client timeout", async () => {
    const store = await open({ timeoutMs: 150, retry: { attempts: 1 } });
    fake.fail({ operationId: "scroll_points", hang: true });
    const started = Date.now();
    const err = await rejection(store.listImage("t", "img"));
    expect([err.status, err.code, err.message]).toEqual([
      503,
      "unavailable",
      "vector store timed out",
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("an unreachable server → 503", async () => {
    const gone = await FakeQdrant.start();
    const url = gone.url;
    await gone.close();
    const err = await rejection(
      createQdrantStore({ url, collection: "x", dim: DIM, retry: { attempts: 2, baseDelayMs: 1 } }),
    );
    expect([err.status, err.message]).toEqual([503, "vector store unreachable"]);
  });

  it("bad input never reaches Qdrant: wrong dimension, foreign tenant, unsafe ids", async () => {
    const store = await open();
    const before = fake.requests.length;
    await expect(store.search("t", new Float32Array(DIM + 1), { limit: 1 })).rejects.toMatchObject({
      status: 400,
    });
    await expect(store.upsert("t", [point("u", "img", 0, unit(1))])).rejects.toMatchObject({
      status: 400,
    });
    await expect(store.count("../t")).rejects.toThrow(/invalid tenant/);
    expect(await store.get("t", "not-a-uuid")).toBeNull();
    expect(fake.requests.length).toBe(before);
  });
});

describe("Qdrant retries: only idempotent operations", () => {
  it("reads and upserts (deterministic ids) are retried on 503 within the deadline; a hang spends the deadline", async () => {
    const store = await open({ timeoutMs: 300 });
    let before = ops("upsert_points").length;
    fake.fail({ operationId: "upsert_points", status: 503 });
    await store.upsert("t", [point("t", "img", 0, unit(1))]);
    expect(ops("upsert_points").length - before).toBe(2);

    before = ops("count_points").length;
    fake.fail({ operationId: "count_points", status: 503 });
    expect(await store.count("t")).toBe(1);
    expect(ops("count_points").length - before).toBe(2);

    // One deadline for all tries (issue 20): a hang uses it up, so no second try comes after it.
    before = ops("count_points").length;
    fake.fail({ operationId: "count_points", hang: true });
    expect((await rejection(store.count("t"))).status).toBe(503);
    expect(ops("count_points").length - before).toBe(1);
  });

  it("gives up after the configured attempts with the mapped error", async () => {
    const store = await open({ retry: { attempts: 3, baseDelayMs: 1 } });
    const before = ops("delete_points").length;
    fake.fail({ operationId: "delete_points", status: 503, times: 5 });
    const err = await rejection(store.deleteImage("t", "img"));
    expect(err.status).toBe(503);
    expect(ops("delete_points").length - before).toBe(3);
    fake.clearFaults();
  });

  it("collection creation is not retried (a timed-out create may have happened)", async () => {
    const before = ops("create_collection").length;
    fake.fail({ operationId: "create_collection", status: 503 });
    const err = await rejection(open());
    expect(err.status).toBe(503);
    expect(ops("create_collection").length - before).toBe(1);
  });
});

describe("Qdrant payload", () => {
  it("stores the payload snake_case, as documented for the collection", async () => {
    const collection = fresh();
    const store = await open({ collection });
    const p = point("t", "img", 3, unit(1, 2));
    await store.upsert("t", [p]);
    const stored = [...fake.engine.resolve(collection).points.values()][0]!;
    expect(Object.keys(stored.payload).sort()).toEqual([
      "area",
      "bbox",
      "created_at",
      "image_height",
      "image_id",
      "image_width",
      "kind",
      "mask",
      "pack",
      "predicted_iou",
      "region_index",
      "stability",
      "tenant",
    ]);
    expect(stored.payload).toMatchObject({
      image_id: "img",
      region_index: 3,
      predicted_iou: 0.875,
      mask: p.payload.mask,
    });
  });
});
