/**
 * The shared VectorStore conformance suite against the Qdrant adapter: always against the fake
 * Qdrant (every request checked against Qdrant 1.19's OpenAPI document), and against a live Qdrant
 * whenever QDRANT_URL is set (QDRANT_API_KEY optional). Adapter-only behaviour: qdrant-adapter.test.ts.
 */
import { QdrantClient } from "@qdrant/js-client-rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pointId } from "../../src/lib/store/ids.js";
import { createQdrantStore } from "../../src/lib/store/qdrant/index.js";
import { DIM, vectorStoreConformance } from "./conformance.js";
import { FakeQdrant } from "./qdrant-fake.js";

let fake: FakeQdrant;
beforeAll(async () => {
  fake = await FakeQdrant.start();
});
afterAll(async () => {
  await fake?.close();
});

/** One collection per conformance directory, so "reopen the same dir" reopens the same collection. */
function collectionNamer(prefix: string): { name(dir: string): string; all(): string[] } {
  const names = new Map<string, string>();
  return {
    name: (dir) =>
      names.get(dir) ?? (names.set(dir, `${prefix}_${names.size}`), `${prefix}_${names.size - 1}`),
    all: () => [...names.values()],
  };
}

const fakeNames = collectionNamer("conf");
vectorStoreConformance("Qdrant adapter on the fake Qdrant (OpenAPI-checked)", {
  open: (dir) =>
    createQdrantStore({
      url: fake.url,
      collection: fakeNames.name(dir),
      dim: DIM,
      retry: { baseDelayMs: 1 },
    }),
  persistent: true,
});

/** Every operation the adapter performs in the conformance scenarios (spec operationIds). */
const ADAPTER_OPERATIONS = [
  "root", // server version at bootstrap
  "get_collection",
  "create_collection",
  "update_aliases", // the alias `<name>` → `<name>_v1` of a fresh deployment
  "create_field_index",
  "upsert_points",
  "delete_points",
  "batch_update", // replaceImage: upserts + stale-point delete in one request
  "scroll_points", // get (filtered by has_id) and listImage
  "count_points",
  "query_points",
  "query_points_groups",
];

/**
 * Operations that select points by filter: each must carry the tenant condition first. Upserts carry
 * no filter (issue 20: it would only send them down Qdrant's slow path); their ids are checked below.
 */
const POINT_FILTERS: Record<string, string> = {
  delete_points: "filter",
  scroll_points: "filter",
  count_points: "filter",
  query_points: "filter",
  query_points_groups: "filter",
};

describe("Qdrant contract checks (requests recorded during the conformance run above)", () => {
  it("every request matched Qdrant 1.19's OpenAPI spec, and every fake answer did too", () => {
    expect(fake.requests.length).toBeGreaterThan(50);
    const bad = fake.requests.filter((r) => r.errors.length || r.responseErrors.length);
    expect(
      bad.map(
        (r) => `${r.method} ${r.path}${r.query}: ${[...r.errors, ...r.responseErrors].join("; ")}`,
      ),
    ).toEqual([]);
    expect(
      fake.requests.every(
        (r) => r.status === 200 || (r.operationId === "get_collection" && r.status === 404),
      ),
    ).toBe(true);
  });

  it("the scenarios exercised every adapter operation", () => {
    const seen = new Set(fake.requests.map((r) => r.operationId));
    expect(ADAPTER_OPERATIONS.filter((op) => !seen.has(op))).toEqual([]);
  });

  it("every point read and write carried the tenant condition, first in `must`", () => {
    const pointOps = fake.requests.filter((r) => r.operationId! in POINT_FILTERS);
    expect(pointOps.length).toBeGreaterThan(30);
    for (const r of pointOps) {
      const filter = (
        r.body as Record<string, { must?: Array<{ key?: string; match?: { value?: unknown } }> }>
      )[POINT_FILTERS[r.operationId!]!];
      expect(
        filter?.must?.[0],
        `${r.operationId} ${JSON.stringify(r.body).slice(0, 200)}`,
      ).toMatchObject({ key: "tenant", match: { value: expect.any(String) } });
    }
  });

  it("every point written has the id of its own tenant, image, region and pack; deletes by filter name the tenant first", () => {
    type Struct = { id: string; payload: Record<string, unknown> };
    type Op = { upsert?: { points: Struct[] }; delete?: { filter?: Filter; points?: string[] } };
    type Filter = { must?: Array<{ key?: string; match?: { value?: unknown } }> };
    const batches = fake.requests
      .filter((r) => r.operationId === "batch_update")
      .flatMap((r) => (r.body as { operations: Op[] }).operations);
    const upserts = fake.requests
      .filter((r) => r.operationId === "upsert_points")
      .flatMap((r) => (r.body as { points: Struct[] }).points);
    const written = [...upserts, ...batches.flatMap((o) => o.upsert?.points ?? [])];
    expect(written.length).toBeGreaterThan(10);
    for (const p of written) {
      const { tenant, image_id, region_index, pack } = p.payload;
      expect(p.id).toBe(
        pointId(String(tenant), String(image_id), Number(region_index), String(pack)),
      );
    }
    for (const o of batches) {
      if (!o.delete?.filter) continue;
      expect(o.delete.filter.must?.[0]).toMatchObject({
        key: "tenant",
        match: { value: expect.any(String) },
      });
    }
  });

  it("writes wait for the write to be applied (wait=true)", () => {
    const writes = fake.requests.filter((r) =>
      ["upsert_points", "delete_points", "batch_update", "create_field_index"].includes(
        r.operationId!,
      ),
    );
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((r) => new URLSearchParams(r.query).get("wait") !== "true")).toEqual([]);
  });
});

const LIVE_URL = process.env.QDRANT_URL;
describe.skipIf(!LIVE_URL)(
  LIVE_URL ? `live Qdrant at ${LIVE_URL}` : "live Qdrant — skipped: QDRANT_URL is not set",
  () => {
    const apiKey = process.env.QDRANT_API_KEY || undefined;
    const run = `rs_conf_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    const liveNames = collectionNamer(run);
    afterAll(async () => {
      // Drop what this run created, whatever the outcome: each name is an alias to `<name>_v1` (dropped with it).
      const client = new QdrantClient({ url: LIVE_URL!, apiKey, checkCompatibility: false });
      for (const name of liveNames.all()) {
        for (const c of [`${name}_v1`, name])
          await client.deleteCollection(c).catch(() => undefined);
      }
    });
    vectorStoreConformance("Qdrant adapter on a live Qdrant", {
      open: (dir) =>
        createQdrantStore({ url: LIVE_URL!, apiKey, collection: liveNames.name(dir), dim: DIM }),
      persistent: true,
    });
  },
);
