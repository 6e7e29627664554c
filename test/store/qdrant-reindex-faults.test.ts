/**
 * Re-indexing behind an alias (reindexQdrant) with the faults real Qdrant shows, as modelled in the
 * fake from its source (qdrant-fake-engine.ts): an update that fails on some shards of a sharded
 * target and stays applied on the others, and an alias request that fails after some of its actions
 * were applied (Qdrant has no rollback).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pointId } from "../../src/lib/store/ids.js";
import {
  createQdrantStore,
  reindexQdrant,
  type ImageRef,
  type QdrantVectorStore,
  type ReindexOptions,
} from "../../src/lib/store/qdrant/index.js";
import type { Ledger } from "../../src/lib/store/reembed.js";
import type { StoredPoint } from "../../src/lib/store/types.js";
import { DIM, point, unit } from "./conformance.js";
import { FakeQdrant } from "./qdrant-fake.js";
import { shardOf } from "./qdrant-fake-engine.js";

const NEW = "next@2";
const SHARDS = 4;
const IMAGES: ImageRef[] = [0, 1, 2, 3, 4, 5].map((i) => ({ tenant: "t", imageId: `img${i}` }));

/** 6 points per image under the new pack: spread over every shard of a 4-shard target. */
function newPoints(ref: ImageRef): StoredPoint[] {
  return [-1, 0, 1, 2, 3, 4].map((i) => {
    const p = point(ref.tenant, ref.imageId, i, unit(0, 0, 1, i));
    return {
      ...p,
      id: pointId(ref.tenant, ref.imageId, i, NEW),
      payload: { ...p.payload, pack: NEW },
    };
  });
}

let fake: FakeQdrant;
let seq = 0;
let alias: string;
let live: QdrantVectorStore;
beforeAll(async () => {
  fake = await FakeQdrant.start();
});
afterAll(() => fake.close());

beforeEach(async () => {
  alias = `shards_${seq++}`;
  live = await createQdrantStore({
    url: fake.url,
    collection: alias,
    dim: DIM,
    retry: { baseDelayMs: 1 },
  });
  for (const ref of IMAGES)
    await live.upsert(ref.tenant, [point(ref.tenant, ref.imageId, 0, unit(1))]);
});

const options = (o: Partial<ReindexOptions> = {}): ReindexOptions => ({
  store: {
    url: fake.url,
    collection: alias,
    dim: DIM,
    shardNumber: SHARDS,
    retry: { baseDelayMs: 1 },
  },
  target: `${alias}_new`,
  images: () => IMAGES,
  embed: async (ref) => newPoints(ref),
  ...o,
});

describe("reindexQdrant on a sharded target, with Qdrant's partial failures", () => {
  it("an image written on some shards only is written again on resume; the switch comes with exact counts", async () => {
    // Which image the fault hits: the first with a point on shard 2 (all have, 6 points on 4 shards).
    const hit = IMAGES.find((ref) => newPoints(ref).some((p) => shardOf(p.id, SHARDS) === 2))!;
    let ledger: Ledger = {};
    const failing = options({
      onProgress: (p) => void (ledger = structuredClone(p.ledger)),
      embed: async (ref) => {
        if (ref === hit)
          fake.engine.failShards({ shards: [2], message: "Service internal error: disk full" });
        return newPoints(ref);
      },
    });
    await expect(reindexQdrant(failing)).rejects.toThrow(
      /1 out of \d shards failed to apply operation. First error captured: Service internal error: disk full/,
    );
    const target = fake.engine.resolve(`${alias}_new`);
    const held = [...target.points.values()].filter((p) => p.payload.image_id === hit.imageId);
    // Partly written: the other shards kept their part (what "count > 0 = done" would have skipped).
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(6);
    expect(ledger[`t/${hit.imageId}`]).toBeUndefined();
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v1`);

    const embedded: string[] = [];
    const result = await reindexQdrant(
      options({ ledger, embed: async (ref) => (embedded.push(ref.imageId), newPoints(ref)) }),
    );
    expect(embedded).toContain(hit.imageId);
    expect(result.switched).toBe(true);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_new`);
    for (const ref of IMAGES) expect(await live.count("t", { imageIds: [ref.imageId] })).toBe(6);
  });

  it("a shard that is briefly unavailable (503 on one shard) is retried by the adapter: nothing half-written", async () => {
    fake.engine.failShards({
      shards: [1],
      status: 503,
      message: "Shard temporarily unavailable: replica of shard 1 is being transferred",
    });
    const result = await reindexQdrant(options());
    expect(fake.engine.shardFaults).toEqual([]);
    expect(result).toMatchObject({ embedded: 6, switched: true });
    for (const ref of IMAGES) expect(await live.count("t", { imageIds: [ref.imageId] })).toBe(6);
  });
});

describe("reindexQdrant's alias switch when Qdrant fails an alias action", () => {
  it("a failed switch leaves the alias serving the old collection, and the read-back repairs it", async () => {
    fake.engine.aliasActionFault = {
      action: "create_alias",
      status: 500,
      message: "Service internal error: failed to save the alias mapping",
    };
    const result = await reindexQdrant(options());
    expect(result.switched).toBe(true);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_new`);
    expect(await live.count("t")).toBe(36);
  });

  it("a switch that keeps failing throws, and the alias still serves the old collection", async () => {
    let failures = 0;
    const arm = () => {
      failures++;
      fake.engine.aliasActionFault = {
        action: "create_alias",
        status: 500,
        message: "Service internal error: io",
      };
    };
    const original = fake.engine.updateAliases.bind(fake.engine);
    fake.engine.updateAliases = (actions) => {
      arm();
      original(actions);
    };
    try {
      await expect(reindexQdrant(options({ keepOld: true }))).rejects.toThrow(
        /points at .*_v1.* after switching it to ".*_new".*failed to save|Service internal error: io/,
      );
    } finally {
      fake.engine.updateAliases = original;
      fake.engine.aliasActionFault = undefined;
    }
    expect(failures).toBe(2);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v1`);
    expect(await live.count("t")).toBe(6);
  });
});
