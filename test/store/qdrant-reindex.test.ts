/**
 * Re-indexing to a new model pack behind a Qdrant alias (reindexQdrant) on the fake Qdrant: searches
 * through the alias keep working throughout and switch from the old pack's points to the new one's
 * at one alias action (read back after); the old collection is dropped; a crash midway resumes. A fresh
 * deployment (bootstrap's `<name>` → `<name>_v1`) re-indexes the same way, to `<name>_v2` by default.
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
import type { StoredPoint } from "../../src/lib/store/types.js";
import { DIM, point, unit } from "./conformance.js";
import { FakeQdrant } from "./qdrant-fake.js";

const OLD = "conf@1";
const NEW = "next@2";
const IMAGES: ImageRef[] = [
  ...[0, 1, 2, 3, 4].map((i) => ({ tenant: "t", imageId: `img${i}` })),
  { tenant: "u", imageId: "img0" },
];

/** The new pack's points of an image: other ids (the pack is part of the id), other vectors. */
function newPoints(ref: ImageRef): StoredPoint[] {
  return [-1, 0, 1].map((i) => {
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

/** A fresh alias `gallery_<n>` → `gallery_<n>_old`, holding the old pack's points of IMAGES. */
beforeEach(async () => {
  alias = `gallery_${seq++}`;
  fake.engine.create(`${alias}_old`, { vectors: { region: { size: DIM, distance: "Cosine" } } });
  fake.engine.updateAliases([
    { create_alias: { alias_name: alias, collection_name: `${alias}_old` } },
  ]);
  live = await createQdrantStore({
    url: fake.url,
    collection: alias,
    dim: DIM,
    retry: { baseDelayMs: 1 },
  });
  for (const ref of IMAGES)
    await live.upsert(
      ref.tenant,
      [-1, 0, 1].map((i) => point(ref.tenant, ref.imageId, i, unit(1, i))),
    );
});

const options = (o: Partial<ReindexOptions> = {}): ReindexOptions => ({
  store: { url: fake.url, collection: alias, dim: DIM, retry: { baseDelayMs: 1 } },
  target: `${alias}_new`,
  images: () => IMAGES,
  embed: async (ref) => newPoints(ref),
  ...o,
});

/** Which pack answers a search through the alias right now. */
async function packOfSearch(store = live): Promise<string> {
  const hits = await store.search("t", unit(1, 1, 1, 1), { limit: 3 });
  const packs = new Set(hits.map((h) => h.payload.pack));
  expect(packs.size).toBe(1);
  return [...packs][0]!;
}

const requestsSince = (n: number, op: string) =>
  fake.requests.slice(n).filter((r) => r.operationId === op);

describe("reindexQdrant", () => {
  it("searches during the re-index hit the old collection, after the one-request switch the new one; the old is dropped", async () => {
    const before = fake.requests.length;
    const seen: string[] = [];
    // Searches interleaved with the work: inside every embed, and a concurrent loop until after the switch.
    let running = true;
    const loop = (async () => {
      while (running) seen.push(await packOfSearch());
    })();
    const result = await reindexQdrant(
      options({
        embed: async (ref) => {
          seen.push(await packOfSearch());
          return newPoints(ref);
        },
      }),
    );
    seen.push(await packOfSearch());
    running = false;
    await loop;

    expect(result).toMatchObject({
      previous: `${alias}_old`,
      target: `${alias}_new`,
      embedded: 6,
      skipped: 0,
      pruned: 0,
      points: 18,
      switched: true,
      dropped: `${alias}_old`,
      alreadyLive: false,
    });
    expect(Object.keys(result.ledger).length).toBe(6);
    // Every search succeeded (a failure would have rejected `loop` or the re-index), old pack first, then only the new.
    const firstNew = seen.indexOf(NEW);
    expect(seen.slice(0, firstNew).length).toBeGreaterThanOrEqual(IMAGES.length);
    expect(new Set(seen.slice(0, firstNew))).toEqual(new Set([OLD]));
    expect(new Set(seen.slice(firstNew))).toEqual(new Set([NEW]));

    const switches = requestsSince(before, "update_aliases");
    expect(switches.map((r) => r.body)).toEqual([
      {
        // One action: create_alias re-points the alias in one step (no delete that could stay applied alone).
        actions: [{ create_alias: { collection_name: `${alias}_new`, alias_name: alias } }],
      },
    ]);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_new`);
    expect(fake.engine.collections.has(`${alias}_old`)).toBe(false);
    expect(await live.count("t")).toBe(15);
    expect(await live.count("u")).toBe(3);
    expect(fake.requests.slice(before).flatMap((r) => r.errors)).toEqual([]);
  });

  it("a crash midway leaves the alias alone; the re-run with the ledger embeds only what is missing, then switches", async () => {
    const calls: string[] = [];
    // What the CLI persists: the ledger of the last progress event.
    let ledger = {};
    const crashing = options({
      onProgress: (p) => void (ledger = structuredClone(p.ledger)),
      embed: async (ref) => {
        if (ref.imageId === "img3") throw new Error("GPU fell over (injected)");
        calls.push(ref.imageId);
        return newPoints(ref);
      },
    });
    await expect(reindexQdrant(crashing)).rejects.toThrow(/injected/);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_old`);
    expect(await packOfSearch()).toBe(OLD);
    expect(calls).toEqual(["img0", "img1", "img2"]);

    calls.length = 0;
    const result = await reindexQdrant(
      options({
        ledger,
        embed: async (ref) => (calls.push(`${ref.tenant}/${ref.imageId}`), newPoints(ref)),
      }),
    );
    expect(calls).toEqual(["t/img3", "t/img4", "u/img0"]);
    expect(result).toMatchObject({ embedded: 3, skipped: 3, switched: true });
    expect(await packOfSearch()).toBe(NEW);
    expect(await live.count("t")).toBe(15);

    // Once switched, a re-run with the ledger only catches up: nothing to do here.
    expect(await reindexQdrant(options({ ledger: result.ledger }))).toMatchObject({
      switched: false,
      alreadyLive: true,
      embedded: 0,
      skipped: 6,
    });
  });

  it("a later pass picks up images ingested while the first pass ran", async () => {
    const extra: ImageRef = { tenant: "t", imageId: "late" };
    const list = [...IMAGES];
    const result = await reindexQdrant(
      options({
        images: () => list,
        embed: async (ref) => {
          if (ref.imageId === "img4") list.push(extra);
          return newPoints(ref);
        },
      }),
    );
    expect(result.embedded).toBe(7);
    expect(await live.count("t", { imageIds: ["late"] })).toBe(3);
  });

  it("keepOld keeps the previous collection for a rollback", async () => {
    const result = await reindexQdrant(options({ keepOld: true }));
    expect(result.dropped).toBeNull();
    expect(fake.engine.collections.get(`${alias}_old`)!.points.size).toBe(18);
  });

  it("will not switch an alias someone else moved meanwhile", async () => {
    fake.engine.create(`${alias}_other`, {
      vectors: { region: { size: DIM, distance: "Cosine" } },
    });
    const moving = options({
      embed: async (ref) => {
        if (ref.imageId === "img4")
          fake.engine.updateAliases([
            { delete_alias: { alias_name: alias } },
            { create_alias: { alias_name: alias, collection_name: `${alias}_other` } },
          ]);
        return newPoints(ref);
      },
    });
    await expect(reindexQdrant(moving)).rejects.toThrow(/changed during the re-index/);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_other`);
    expect(fake.engine.collections.has(`${alias}_old`)).toBe(true);
  });

  it("a fresh deployment (as bootstrap sets it up) switches from `<name>_v1` to `<name>_v2` with no failed search, then drops `_v1`", async () => {
    const name = `fresh_${seq++}`;
    const served = await createQdrantStore({
      url: fake.url,
      collection: name,
      dim: DIM,
      retry: { baseDelayMs: 1 },
    });
    expect(fake.engine.aliases.get(name)).toBe(`${name}_v1`);
    for (const ref of IMAGES)
      await served.upsert(
        ref.tenant,
        [-1, 0, 1].map((i) => point(ref.tenant, ref.imageId, i, unit(1, i))),
      );

    const before = fake.requests.length;
    const seen: string[] = [];
    const targets = new Set<string>();
    let running = true;
    const loop = (async () => {
      while (running) seen.push(await packOfSearch(served));
    })();
    const result = await reindexQdrant({
      store: { url: fake.url, collection: name, dim: DIM, retry: { baseDelayMs: 1 } },
      images: () => IMAGES,
      embed: async (ref) => {
        seen.push(await packOfSearch(served));
        return newPoints(ref);
      },
      onProgress: (p) => void targets.add(p.target),
    });
    seen.push(await packOfSearch(served));
    running = false;
    await loop;

    expect(result).toMatchObject({
      previous: `${name}_v1`,
      target: `${name}_v2`,
      embedded: 6,
      skipped: 0,
      switched: true,
      dropped: `${name}_v1`,
    });
    expect(targets).toEqual(new Set([`${name}_v2`]));
    const since = fake.requests.slice(before);
    // Zero failed searches: every query through the alias answered 200, old pack until the switch, then the new one.
    const searches = since.filter((r) => r.operationId === "query_points");
    expect(searches.length).toBeGreaterThan(IMAGES.length);
    expect(
      searches.filter((r) => r.status !== 200 || r.path !== `/collections/${name}/points/query`),
    ).toEqual([]);
    const firstNew = seen.indexOf(NEW);
    expect(firstNew).toBeGreaterThanOrEqual(IMAGES.length);
    expect(new Set(seen.slice(0, firstNew))).toEqual(new Set([OLD]));
    expect(new Set(seen.slice(firstNew))).toEqual(new Set([NEW]));
    // No collection under the alias name was ever deleted or created: one alias switch, then `_v1` dropped.
    expect(since.filter((r) => r.operationId === "delete_collection").map((r) => r.path)).toEqual([
      `/collections/${name}_v1`,
    ]);
    expect(since.filter((r) => r.operationId === "create_collection").map((r) => r.path)).toEqual([
      `/collections/${name}_v2`,
    ]);
    expect(since.filter((r) => r.operationId === "update_aliases").map((r) => r.body)).toEqual([
      {
        // One action: create_alias re-points the alias in one step (no delete that could stay applied alone).
        actions: [{ create_alias: { collection_name: `${name}_v2`, alias_name: name } }],
      },
    ]);
    expect(fake.engine.aliases.get(name)).toBe(`${name}_v2`);
    expect(fake.engine.collections.has(`${name}_v1`)).toBe(false);
    expect(fake.engine.collections.has(name)).toBe(false);
    expect(await served.count("t")).toBe(15);
    expect(since.flatMap((r) => [...r.errors, ...r.responseErrors])).toEqual([]);

    // The next re-index goes on to `_v3`, and a restart against the alias finds the new collection as it is.
    expect(
      await reindexQdrant({
        store: { url: fake.url, collection: name, dim: DIM },
        images: () => IMAGES,
        embed: async (ref) => newPoints(ref),
      }),
    ).toMatchObject({
      previous: `${name}_v2`,
      target: `${name}_v3`,
      dropped: `${name}_v2`,
    });
    const restarted = await createQdrantStore({ url: fake.url, collection: name, dim: DIM });
    expect(restarted.bootstrap).toMatchObject({
      created: false,
      aliasTarget: null,
      indexesCreated: [],
    });
  });

  it("the default target is one above every `<alias>_v<n>` there is, never an existing collection", async () => {
    // The live collection here is `<alias>_old`; leftovers `_v2` and `_v7` (and unrelated look-alikes) exist.
    for (const n of [
      `${alias}_v2`,
      `${alias}_v7`,
      `${alias}_v7x`,
      `${alias}_vv9`,
      `${alias}x_v9`,
    ]) {
      fake.engine.create(n, { vectors: { region: { size: DIM, distance: "Cosine" } } });
    }
    const result = await reindexQdrant(options({ target: undefined, keepOld: true }));
    expect(result).toMatchObject({
      previous: `${alias}_old`,
      target: `${alias}_v8`,
      dropped: null,
    });
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v8`);
    expect(fake.engine.collections.get(`${alias}_v7`)!.points.size).toBe(0);
  });

  it("a plain collection under the alias name is replaced only when asked to", async () => {
    const name = `plain_${seq++}`;
    // What bootstrap made before it set up aliases (or what someone created by hand).
    fake.engine.create(name, { vectors: { region: { size: DIM, distance: "Cosine" } } });
    const plain = await createQdrantStore({ url: fake.url, collection: name, dim: DIM });
    expect(fake.engine.aliases.has(name)).toBe(false);
    await plain.upsert("t", [point("t", "img0", 0, unit(1))]);
    const o = options({
      store: { url: fake.url, collection: name, dim: DIM },
      target: `${name}_v2`,
    });
    await expect(reindexQdrant(o)).rejects.toThrow(/is a collection, not an alias/);
    expect(fake.engine.collections.has(`${name}_v2`)).toBe(false);

    const result = await reindexQdrant({ ...o, replaceCollection: true });
    expect(result).toMatchObject({ previous: name, dropped: name, switched: true });
    expect(fake.engine.aliases.get(name)).toBe(`${name}_v2`);
    expect(await plain.count("t")).toBe(15);
  });

  it("refuses a target named like the alias", async () => {
    await expect(reindexQdrant(options({ target: alias }))).rejects.toThrow(
      /must not be named like the alias/,
    );
  });
});
