/**
 * On a live Qdrant only (QDRANT_URL; `npm run test:qdrant`): start-up with the cluster layout of the
 * environment (QDRANT_SHARD_NUMBER / _REPLICATION_FACTOR / _WRITE_CONSISTENCY_FACTOR, when set),
 * which must find every shard with its replicas, then a re-index behind the alias to a new pack with
 * exact counts and one alias switch. Skipped without QDRANT_URL, saying so: no Qdrant server can run
 * where this project is built, so these have not run there (docs/qdrant.md "Live checks").
 */
import { QdrantClient } from "@qdrant/js-client-rest";
import { afterAll, describe, expect, it } from "vitest";
import { pointId } from "../../src/lib/store/ids.js";
import {
  createQdrantStore,
  reindexQdrant,
  type ImageRef,
  type QdrantStoreOptions,
} from "../../src/lib/store/qdrant/index.js";
import type { StoredPoint } from "../../src/lib/store/types.js";
import { DIM, point, unit } from "./conformance.js";

const LIVE_URL = process.env.QDRANT_URL;
const int = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);

describe.skipIf(!LIVE_URL)(
  LIVE_URL
    ? `live Qdrant at ${LIVE_URL}: layout and re-index`
    : "live Qdrant — skipped: QDRANT_URL is not set",
  () => {
    const alias = `rs_live_${Date.now().toString(36)}`;
    const base: QdrantStoreOptions = {
      url: LIVE_URL!,
      apiKey: process.env.QDRANT_API_KEY || undefined,
      collection: alias,
      dim: DIM,
      shardNumber: int("QDRANT_SHARD_NUMBER"),
      replicationFactor: int("QDRANT_REPLICATION_FACTOR"),
      writeConsistencyFactor: int("QDRANT_WRITE_CONSISTENCY_FACTOR"),
    };
    const images: ImageRef[] = [0, 1, 2, 3].map((i) => ({ tenant: "t", imageId: `img${i}` }));
    afterAll(async () => {
      const client = new QdrantClient({
        url: LIVE_URL!,
        apiKey: base.apiKey,
        checkCompatibility: false,
      });
      for (const c of [`${alias}_v1`, `${alias}_v2`])
        await client.deleteCollection(c).catch(() => undefined);
    });

    it("starts on a collection with every shard's replicas, created with the environment's layout", async () => {
      const store = await createQdrantStore(base);
      expect(store.bootstrap).toMatchObject({ created: true, aliasTarget: `${alias}_v1` });
      const info = await store.client.getCollection(alias);
      if (base.shardNumber) expect(info.config.params.shard_number).toBe(base.shardNumber);
      if (base.replicationFactor)
        expect(info.config.params.replication_factor).toBe(base.replicationFactor);
      for (const ref of images)
        await store.replaceImage(
          "t",
          ref.imageId,
          [-1, 0, 1].map((i) => point("t", ref.imageId, i, unit(1, i))),
        );
      expect(await store.count("t")).toBe(12);
    });

    it("re-indexes behind the alias to a new pack: exact counts, one alias action, old collection dropped", async () => {
      const next = (ref: ImageRef): StoredPoint[] =>
        [-1, 0, 1, 2].map((i) => {
          const p = point(ref.tenant, ref.imageId, i, unit(0, 1, i));
          return {
            ...p,
            id: pointId(ref.tenant, ref.imageId, i, "live@2"),
            payload: { ...p.payload, pack: "live@2" },
          };
        });
      const result = await reindexQdrant({
        store: base,
        images: () => images,
        embed: async (ref) => next(ref),
      });
      expect(result).toMatchObject({
        target: `${alias}_v2`,
        embedded: 4,
        switched: true,
        dropped: `${alias}_v1`,
      });
      const store = await createQdrantStore(base);
      expect(await store.count("t")).toBe(16);
      const hits = await store.search("t", unit(0, 1), { limit: 3 });
      expect(new Set(hits.map((h) => h.payload.pack))).toEqual(new Set(["live@2"]));
    });
  },
);
