/**
 * The Qdrant adapter against Qdrant's BEHAVIOUR (modelled in the fake from Qdrant 1.19's source,
 * qdrant-fake-engine.ts), with faults injected: writes off the filter-resolving slow path, one
 * deadline across retries with a Qdrant `timeout` below it, grouped search under a concurrent
 * delete, `consistency` on count, clamped scores, index schemas and replica counts checked at
 * start-up, requests under the size cap. Each case failed against the adapter before issue 20.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../src/lib/errors.js";
import { pointId } from "../../src/lib/store/ids.js";
import { createQdrantStore, type QdrantStoreOptions } from "../../src/lib/store/qdrant/index.js";
import { DIM, point, unit } from "./conformance.js";
import { FakeQdrant } from "./qdrant-fake.js";

const PACK = "conf@1"; // conformance.ts `point()`'s pack
let fake: FakeQdrant;
beforeAll(async () => {
  fake = await FakeQdrant.start();
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  fake.clearFaults();
  expect(fake.requests.flatMap((r) => r.errors)).toEqual([]);
});

let seq = 0;
const open = (o: Partial<QdrantStoreOptions> = {}) =>
  createQdrantStore({
    url: fake.url,
    collection: o.collection ?? `faults_${seq++}`,
    dim: DIM,
    retry: { baseDelayMs: 1, maxDelayMs: 50 },
    ...o,
  });
const since = (n: number, op: string) => fake.requests.slice(n).filter((r) => r.operationId === op);
const rejection = async (p: Promise<unknown>): Promise<ApiError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
};

describe("writes stay off Qdrant's filter-resolving path", () => {
  it("upsert sends plain points (no update_filter); replaceImage deletes the stale points by id", async () => {
    const store = await open();
    await store.upsert(
      "t",
      [0, 1, 2].map((i) => point("t", "img", i, unit(1, i))),
    );
    const n = fake.requests.length;
    await store.replaceImage("t", "img", [point("t", "img", 0, unit(1))]);
    await store.upsert("t", [point("t", "other", 0, unit(2))]);
    for (const r of since(n, "upsert_points")) expect(r.body).not.toHaveProperty("update_filter");
    const ops = since(n, "batch_update").flatMap(
      (r) => (r.body as { operations: Record<string, Record<string, unknown>>[] }).operations,
    );
    expect(ops.map((o) => Object.keys(o)[0])).toEqual(["upsert", "delete"]);
    expect(ops[0]!.upsert).not.toHaveProperty("update_filter");
    expect(ops[1]!.delete).toEqual({
      points: [1, 2].map((i) => pointId("t", "img", i, PACK)).sort(),
    });
    expect((await store.listImage("t", "img")).map((p) => p.payload.regionIndex)).toEqual([0]);
  });

  it("refuses a point whose id is not the id of its own tenant, image and region", async () => {
    const store = await open();
    const n = fake.requests.length;
    const foreign = { ...point("t", "img", 0, unit(1)), id: pointId("u", "img", 0, PACK) };
    const err = await rejection(store.upsert("t", [foreign]));
    expect(err.status).toBe(400);
    await rejection(store.replaceImage("t", "img", [foreign]));
    expect(since(n, "upsert_points").length + since(n, "batch_update").length).toBe(0);
  });

  it("cuts a large image into requests under the size cap, the stale delete in the last one", async () => {
    const store = await open();
    const huge = (i: number) => {
      const p = point("t", "big", i, unit(1, i));
      return {
        ...p,
        payload: {
          ...p.payload,
          mask: { size: [4, 5] as [number, number], counts: "x".repeat(3_000_000) },
        },
      };
    };
    await store.upsert("t", [point("t", "big", 40, unit(1))]);
    const n = fake.requests.length;
    await store.replaceImage(
      "t",
      "big",
      Array.from({ length: 12 }, (_, i) => huge(i)),
    );
    const sent = since(n, "batch_update");
    expect(sent.length).toBeGreaterThan(1);
    for (const r of sent) expect(JSON.stringify(r.body).length).toBeLessThan(32 * 1024 * 1024);
    const last = (sent.at(-1)!.body as { operations: object[] }).operations.at(-1);
    expect(last).toEqual({ delete: { points: [pointId("t", "big", 40, PACK)] } });
    expect(await store.count("t", { imageIds: ["big"] })).toBe(12);
  });
});

describe("one deadline: a stalled Qdrant", () => {
  it("a read: the caller waits at most QDRANT_TIMEOUT_MS; every try carries a Qdrant timeout below it", async () => {
    const store = await open({ timeoutMs: 1_500, retry: { attempts: 3, baseDelayMs: 1 } });
    const n = fake.requests.length;
    fake.fail({ operationId: "query_points", stallMs: 4_000, times: 5 });
    const started = Date.now();
    const err = await rejection(store.search("t", unit(1), { limit: 3 }));
    const waited = Date.now() - started;
    expect([err.status, err.code]).toEqual([503, "unavailable"]);
    expect(waited).toBeLessThan(1_500 + 500);
    const tries = since(n, "query_points");
    expect(tries.length).toBeGreaterThan(0);
    for (const r of tries) expect(Number(new URLSearchParams(r.query).get("timeout"))).toBe(1);
  });

  it("a write Qdrant did not apply within its timeout (wait_timeout) is not reported as done", async () => {
    const store = await open({ timeoutMs: 2_500, retry: { attempts: 3, baseDelayMs: 1 } });
    fake.fail({ operationId: "upsert_points", stallMs: 3_000, times: 5 });
    const started = Date.now();
    const err = await rejection(store.upsert("t", [point("t", "img", 0, unit(1))]));
    expect([err.status, err.code]).toEqual([503, "unavailable"]);
    expect(Date.now() - started).toBeLessThan(2_500 + 500);
  });
});

describe("reads as Qdrant answers them", () => {
  it("grouped search leaves out a point deleted between Qdrant choosing the groups and filling payloads", async () => {
    const store = await open();
    await store.upsert("t", [point("t", "a", 0, unit(1)), point("t", "b", 0, unit(1, 0.5))]);
    fake.engine.beforeHydrate = () =>
      void fake.engine.resolve(store.options.collection).points.delete(pointId("t", "a", 0, PACK));
    const hits = await store.search("t", unit(1), { limit: 5, groupByImage: true });
    expect(hits.map((h) => h.payload.imageId)).toEqual(["b"]);
  });

  it("count sends the read consistency, like every other read", async () => {
    const store = await open({ readConsistency: "majority" });
    const n = fake.requests.length;
    await store.count("t");
    const [r] = since(n, "count_points");
    expect(new URLSearchParams(r!.query).get("consistency")).toBe("majority");
  });

  it("scores are clamped to [-1, 1] as LanceDB's are", async () => {
    const store = await open();
    const p = point("t", "img", 0, unit(1));
    await store.upsert("t", [p]);
    const stored = fake.engine.resolve(store.options.collection).points.get(p.id)!;
    fake.fail({
      operationId: "query_points",
      status: 200,
      body: {
        result: { points: [{ id: p.id, version: 1, score: 1.0000001, payload: stored.payload }] },
        status: "ok",
        time: 0,
      },
    });
    const [hit] = await store.search("t", unit(1), { limit: 1 });
    expect(hit!.score).toBe(1);
  });
});

describe("start-up refuses a collection that cannot keep its promises", () => {
  it("a tenant index without is_tenant (present, wrong schema) is refused, naming the fix", async () => {
    const name = `faults_${seq++}`;
    fake.engine.create(name, { vectors: { region: { size: DIM, distance: "Cosine" } } });
    fake.engine.resolve(name).indexes.tenant = { data_type: "keyword" };
    await expect(open({ collection: name })).rejects.toThrow(
      /index on "tenant" has is_tenant: false, wanted true.*DELETE \/collections\/.*\/index\/tenant/,
    );
  });

  it("a collection created before the other nodes joined (fewer replicas than its factor) is refused", async () => {
    fake.engine.peers = 1;
    const collection = `faults_${seq++}`;
    await expect(open({ collection, replicationFactor: 2, shardNumber: 2 })).rejects.toThrow(
      /should keep 2 replicas of every shard, but shard 0 has 1, shard 1 has 1/,
    );
    fake.engine.peers = 3;
    const store = await open({ replicationFactor: 2, shardNumber: 3 });
    expect(fake.engine.resolve(store.options.collection).shards.map((s) => s.length)).toEqual([
      2, 2, 2,
    ]);
    fake.engine.peers = 1;
  });
});

describe("Qdrant's own failures, as it words them, reach callers as the one error body", () => {
  it("every write sends the configured ordering and wait=true", async () => {
    const store = await open({ writeOrdering: "strong" });
    const n = fake.requests.length;
    await store.replaceImage("t", "img", [point("t", "img", 0, unit(1))]);
    await store.replaceImage("t", "img", [point("t", "img", 1, unit(1))]);
    await store.deleteImage("t", "img");
    const writes = fake.requests
      .slice(n)
      .filter((r) => ["upsert_points", "batch_update", "delete_points"].includes(r.operationId!));
    expect(writes.length).toBe(3);
    for (const r of writes)
      expect(Object.fromEntries(new URLSearchParams(r.query))).toMatchObject({
        wait: "true",
        ordering: "strong",
      });
  });

  it("a collection dropped under the store → 502 naming it; Qdrant's own 408 → 503, retried within the deadline", async () => {
    const store = await open();
    fake.engine.drop(fake.engine.aliases.get(store.options.collection)!);
    const gone = await rejection(store.count("t"));
    expect([gone.status, gone.message]).toEqual([
      502,
      `vector store error: Not found: Collection \`${store.options.collection}\` doesn't exist!`,
    ]);
    const other = await open();
    const n = fake.requests.length;
    fake.fail({
      operationId: "count_points",
      status: 408,
      body: { status: { error: "Timeout error: Operation 'count' timed out after 9s" }, time: 9 },
    });
    expect(await other.count("t")).toBe(0);
    expect(since(n, "count_points")).toHaveLength(2);
  });
});
