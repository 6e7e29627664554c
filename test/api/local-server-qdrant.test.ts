/**
 * The local server with VECTOR_STORE=qdrant, built from the environment exactly as `npm start` does
 * (parseEnv → vectorStoreSettings → buildLocalServer), against the fake Qdrant and the fake models.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CollectionMismatchError,
  reindexQdrant,
  type QdrantStoreOptions,
} from "../../src/lib/store/qdrant/index.js";
import { pointId } from "../../src/lib/store/ids.js";
import { indexedImages, reembedWith } from "../../src/lib/store/reembed.js";
import { createLogger } from "../../src/node/logging.js";
import { buildLocalServer, type LocalServerSettings } from "../../src/node/server/build.js";
import { parseEnv } from "../../src/node/server/env.js";
import { vectorStoreSettings } from "../../src/node/storage-env.js";
import { FakeQdrant } from "../store/qdrant-fake.js";
import { FAKE_DIM, FAKE_PACK, FakeExtractor, FakeTextEmbedder } from "../support/fakes.js";
import { pngBytes } from "./harness.js";

let fake: FakeQdrant;
let dataDir: string;
beforeAll(async () => {
  fake = await FakeQdrant.start({ apiKey: "qk" });
});
afterAll(() => fake.close());
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "rs-local-q-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
  // Every request the server's store sent had to be one Qdrant 1.19 accepts.
  expect(fake.requests.flatMap((r) => r.errors)).toEqual([]);
});

const log = createLogger("silent");

function settings(collection: string, dim = FAKE_DIM): LocalServerSettings {
  const env = parseEnv({
    DATA_DIR: dataDir,
    VECTOR_STORE: "qdrant",
    QDRANT_URL: fake.url,
    QDRANT_API_KEY: "qk",
    QDRANT_COLLECTION: collection,
  });
  return {
    dataDir: env.DATA_DIR,
    limits: {},
    apiKeys: env.API_KEYS,
    ingest: { concurrency: 1, maxAttempts: 2, backoffMs: 1 },
    vectorIndexThreshold: env.VECTOR_INDEX_THRESHOLD,
    vectorStore: vectorStoreSettings(env, dim),
  };
}

async function ingest(
  server: Awaited<ReturnType<typeof buildLocalServer>>,
  extractor: FakeExtractor,
  id: string,
  labels: string[],
): Promise<void> {
  const bytes = await pngBytes(30, 10, [labels.length * 40, 20, 90]);
  extractor.setLabels(bytes, labels);
  const res = await server.app.request(`/v1/images?id=${id}&wait=true`, {
    method: "POST",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "image/png" },
  });
  expect(res.status).toBe(201);
}

describe("local server on Qdrant (VECTOR_STORE=qdrant)", () => {
  it("ingests and searches through the app; the points are in Qdrant and survive a restart", async () => {
    const extractor = new FakeExtractor();
    const models = { extractor, text: new FakeTextEmbedder() };
    let server = await buildLocalServer(settings("local_q"), models, log);
    await ingest(server, extractor, "pets", ["purple cat", "green dog"]);
    // A fresh deployment: the collection `local_q_v1` behind the alias `local_q`, ready for a re-index.
    expect(fake.engine.aliases.get("local_q")).toBe("local_q_v1");
    const col = fake.engine.resolve("local_q");
    expect(col.vectors).toEqual({ region: { size: FAKE_DIM, distance: "Cosine" } });
    // Two regions and the whole-image point, all under the default tenant.
    expect([...col.points.values()].map((p) => p.payload.tenant)).toEqual([
      "default",
      "default",
      "default",
    ]);
    await server.close();

    server = await buildLocalServer(settings("local_q"), models, log);
    const res = await server.app.request("/v1/search?q=green%20dog&limit=1");
    const body = (await res.json()) as {
      results: { imageId: string; bbox: number[]; score: number }[];
    };
    expect(body.results).toEqual([
      expect.objectContaining({ imageId: "pets", bbox: [15, 0, 15, 10] }),
    ]);
    expect(body.results[0]!.score).toBeCloseTo(1, 4);
    expect(
      fake.requests.some(
        (r) => r.operationId === "query_points" && r.path === "/collections/local_q/points/query",
      ),
    ).toBe(true);
    expect((await server.app.request("/v1/images/pets", { method: "DELETE" })).status).toBe(204);
    expect(await server.vectors.count("default")).toBe(0);
    await server.close();
  });

  it("QDRANT_COLLECTION may name an alias: start-up checks the collection behind it and all traffic goes through the alias", async () => {
    fake.engine.create("behind_v1", {
      vectors: { region: { size: FAKE_DIM, distance: "Cosine" } },
    });
    fake.engine.updateAliases([
      { create_alias: { alias_name: "front", collection_name: "behind_v1" } },
    ]);
    const extractor = new FakeExtractor();
    const server = await buildLocalServer(
      settings("front"),
      { extractor, text: new FakeTextEmbedder() },
      log,
    );
    await ingest(server, extractor, "a", ["red star"]);
    expect(fake.engine.collections.has("front")).toBe(false);
    expect(fake.engine.collections.get("behind_v1")!.points.size).toBe(2);
    const hits = (await (await server.app.request("/v1/search?q=red%20star")).json()) as {
      results: { imageId: string }[];
    };
    expect(hits.results[0]?.imageId).toBe("a");
    await server.close();
  });

  it("a collection made for another dimension stops start-up with CollectionMismatchError", async () => {
    fake.engine.create("other_dim", {
      vectors: { region: { size: FAKE_DIM * 2, distance: "Cosine" } },
    });
    const err = await buildLocalServer(
      settings("other_dim"),
      { extractor: new FakeExtractor(), text: new FakeTextEmbedder() },
      log,
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CollectionMismatchError);
    expect((err as Error).message).toMatch(
      `stores ${FAKE_DIM * 2}-dimensional vectors but the model pack makes ${FAKE_DIM}-dimensional ones`,
    );
    expect(fake.engine.collections.get("other_dim")!.points.size).toBe(0);
  });

  it("re-indexes a fresh deployment's images to a new pack behind its alias while the app keeps answering searches", async () => {
    // Nothing prepared: the server's own start-up sets up `served` → `served_v1`.
    const extractor = new FakeExtractor();
    const server = await buildLocalServer(
      settings("served"),
      { extractor, text: new FakeTextEmbedder() },
      log,
    );
    await ingest(server, extractor, "one", ["red star", "blue moon"]);
    await ingest(server, extractor, "two", ["green tree"]);

    // Which pack answered: region ids are UUIDv5 of (tenant, image, region, pack).
    const packOf = {
      [pointId("default", "one", 1, FAKE_PACK)]: "old",
      [pointId("default", "one", 1, "fake@2")]: "new",
    };
    const packs: string[] = [];
    const search = async () => {
      const res = await server.app.request("/v1/search?q=blue%20moon&limit=1");
      expect(res.status).toBe(200);
      const body = (await res.json()) as { results: { imageId: string; regionId: string }[] };
      packs.push(packOf[body.results[0]!.regionId] ?? "?");
    };
    const next = new FakeExtractor("fake@2");
    // The new pack sees the same labels (so the fake text embedder still finds them).
    for (const [id] of [["one"], ["two"]] as const) {
      const blob = await server.services.blobs.get("default", id);
      next.setLabels(blob!.bytes, id === "one" ? ["red star", "blue moon"] : ["green tree"]);
    }
    const embed = reembedWith({ blobs: server.services.blobs, extractor: next });
    const result = await reindexQdrant({
      store: (settings("served").vectorStore as { options: QdrantStoreOptions }).options,
      images: () => indexedImages(server.services.catalog, ["default"]),
      embed: async (image) => {
        await search();
        return embed(image);
      },
    });
    await search();
    expect(result).toMatchObject({
      previous: "served_v1",
      target: "served_v2",
      embedded: 2,
      dropped: "served_v1",
    });
    expect(fake.engine.aliases.get("served")).toBe("served_v2");
    expect(packs).toEqual(["old", "old", "new"]);
    const packsInNew = new Set(
      [...fake.engine.collections.get("served_v2")!.points.values()].map((p) => p.payload.pack),
    );
    expect(packsInNew).toEqual(new Set(["fake@2"]));
    await server.close();
  });
});
