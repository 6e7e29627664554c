/**
 * The fake Qdrant's behaviour where Qdrant's schema says nothing, checked through the real client:
 * each case is what Qdrant 1.19's source does (cited in qdrant-fake.ts / qdrant-fake-engine.ts), so
 * the adapter's tests cannot pass on a fake that drifted into being kinder than Qdrant.
 */
import path from "node:path";
import { QdrantClient } from "@qdrant/js-client-rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeQdrant } from "./qdrant-fake.js";
import { QdrantSpec, REPO_ROOT, SPEC_PATH } from "./qdrant-spec.js";

let fake: FakeQdrant;
let client: QdrantClient;
beforeAll(async () => {
  fake = await FakeQdrant.start();
  client = new QdrantClient({ url: fake.url, checkCompatibility: false, timeout: 10_000 });
  for (const name of ["c1", "c2"])
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
});
afterAll(() => fake.close());

/** The status and Qdrant's error message of a call that fails. */
async function failure(p: Promise<unknown>): Promise<[number, string]> {
  const err = (await p.then(
    () => null,
    (e: unknown) => e,
  )) as { status: number; data: { status: { error: string } } } | null;
  expect(err).not.toBeNull();
  return [err!.status, err!.data.status.error];
}

describe("aliases (collection_meta_ops.rs update_aliases, alias_mapping.rs)", () => {
  it("deleting a missing alias is OK", async () => {
    expect(
      await client.updateCollectionAliases({
        actions: [{ delete_alias: { alias_name: "never-made" } }],
      }),
    ).toBe(true);
  });

  it("actions apply one by one: a failing action leaves the ones before it applied", async () => {
    const [status, error] = await failure(
      client.updateCollectionAliases({
        actions: [
          { create_alias: { alias_name: "a1", collection_name: "c1" } },
          { create_alias: { alias_name: "a2", collection_name: "missing" } },
        ],
      }),
    );
    expect([status, error]).toEqual([404, "Not found: Collection `missing` doesn't exist!"]);
    expect(fake.engine.aliases.get("a1")).toBe("c1");
    expect(fake.engine.aliases.has("a2")).toBe(false);
  });

  it("create_alias re-points an existing alias in one action", async () => {
    await client.updateCollectionAliases({
      actions: [{ create_alias: { alias_name: "a1", collection_name: "c2" } }],
    });
    expect(fake.engine.aliases.get("a1")).toBe("c2");
  });
});

describe("writes: wait, timeout, status codes (point_ops.rs update_from_client, actix helpers.rs)", () => {
  it("wait=false is acknowledged before it is applied; wait=true answers once applied", async () => {
    fake.queueDelayMs = 60_000; // applied when flushed below, however slow this machine is
    const queued = await client.upsert("c1", {
      wait: false,
      points: [{ id: 1, vector: [1, 0], payload: { k: "v" } }],
    });
    expect(queued.status).toBe("acknowledged");
    expect((await client.count("c1")).count).toBe(0);
    fake.flushQueue();
    fake.queueDelayMs = 5;
    expect((await client.count("c1")).count).toBe(1);
    const done = await client.upsert("c1", { wait: true, points: [{ id: 2, vector: [0, 1] }] });
    expect(done.status).toBe("completed");
  });

  it("a write still waiting when its `timeout` runs out answers wait_timeout, and is applied anyway", async () => {
    fake.fail({ operationId: "upsert_points", stallMs: 1_200 });
    const res = await client.upsert("c1", {
      wait: true,
      timeout: 1,
      points: [{ id: 3, vector: [1, 1] }],
    });
    expect(res.status).toBe("wait_timeout");
    expect((await client.count("c1")).count).toBe(3);
  });

  it("a read whose `timeout` runs out: 408 Timeout error", async () => {
    fake.fail({ operationId: "count_points", stallMs: 1_200 });
    const [status, error] = await failure(client.count("c1", { timeout: 1 }));
    expect(status).toBe(408);
    expect(error).toMatch(/^Timeout error: Operation 'count_points' timed out after 1s$/);
  });

  it("missing collection 404, wrong dimension 400, a filter the schema refuses 400", async () => {
    expect(await failure(client.count("nope"))).toEqual([
      404,
      "Not found: Collection `nope` doesn't exist!",
    ]);
    expect(await failure(client.upsert("c1", { points: [{ id: 9, vector: [1, 2, 3] }] }))).toEqual([
      400,
      "Wrong input: Vector dimension error: expected dim: 2, got 3",
    ]);
    const [status, error] = await failure(
      client.count("c1", { filter: { must: [{ key: "k", match: { valeu: "v" } }] } as never }),
    );
    expect(status).toBe(400);
    expect(error).toMatch(/^Format error in JSON body: /);
  });
});

describe("shards (point_ops.rs InconsistentShardFailure, shard_distribution.rs)", () => {
  it("an upsert failing on one of its shards stays applied on the others, answered with the first error", async () => {
    await client.createCollection("sharded", {
      vectors: { size: 2, distance: "Cosine" },
      shard_number: 3,
    });
    fake.engine.failShards({ shards: [0], message: "Service internal error: disk full" });
    const points = Array.from({ length: 30 }, (_, id) => ({ id, vector: [1, id] }));
    const [status, error] = await failure(client.upsert("sharded", { wait: true, points }));
    expect(status).toBe(500);
    expect(error).toBe(
      "1 out of 3 shards failed to apply operation. First error captured: Service internal error: disk full",
    );
    const stored = (await client.count("sharded")).count;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(30);
  });

  it("replicas per shard are min(replication_factor, peers known at creation)", async () => {
    fake.engine.peers = 1;
    await client.createCollection("early", {
      vectors: { size: 2, distance: "Cosine" },
      shard_number: 2,
      replication_factor: 2,
    });
    fake.engine.peers = 3;
    await client.createCollection("late", {
      vectors: { size: 2, distance: "Cosine" },
      shard_number: 2,
      replication_factor: 2,
    });
    fake.engine.peers = 1;
    const replicas = async (name: string) => {
      const info = await client.collectionClusterInfo(name);
      return info.local_shards.length + info.remote_shards.length;
    };
    expect(await replicas("early")).toBe(2);
    expect(await replicas("late")).toBe(4);
  });
});

describe("group_by (grouping/group_by.rs)", () => {
  it("a point deleted after the groups are chosen comes back with only the group key", async () => {
    await client.createCollection("groups", { vectors: { size: 2, distance: "Cosine" } });
    await client.upsert("groups", {
      wait: true,
      points: [
        { id: 1, vector: [1, 0], payload: { image_id: "a", more: 1 } },
        { id: 2, vector: [1, 0.2], payload: { image_id: "b", more: 2 } },
      ],
    });
    fake.engine.beforeHydrate = () => void fake.engine.resolve("groups").points.delete("1");
    const res = await client.queryGroups("groups", {
      query: [1, 0],
      group_by: "image_id",
      group_size: 1,
      with_payload: true,
    });
    expect(res.groups.map((g) => g.hits[0]!.payload)).toEqual([
      { image_id: "a" },
      { image_id: "b", more: 2 },
    ]);
  });
});

describe("the OpenAPI document the contract checks need", () => {
  it("is read from the repository (third_party/qdrant), and its absence is named exactly", () => {
    expect(SPEC_PATH).toBe(path.join(REPO_ROOT, "third_party/qdrant/openapi-1.19.0.json"));
    expect(
      () => new QdrantSpec(path.join(REPO_ROOT, "third_party/qdrant/openapi-0.0.0.json")),
    ).toThrow(
      /Qdrant's OpenAPI document is missing: third_party\/qdrant\/openapi-0\.0\.0\.json .*PROVENANCE\.md/,
    );
  });
});
