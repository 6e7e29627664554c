/**
 * The composition root (src/node/compose.ts): every entry's parsed environment — the local server's
 * and the functions' — opens the same stores and runs the same start-up index check, including the
 * swap to a completed re-index; and it opens the bundled pack, checked, with its storage.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ObjectCatalog } from "../../src/lib/objects/index.js";
import { createQdrantStore } from "../../src/lib/store/qdrant/index.js";
import { FileCatalog } from "../../src/node/catalog/file-catalog.js";
import { runReindex } from "../../src/node/cli/reindex.js";
import {
  checkIndexAtStart,
  composeNode,
  embeddedVectorDir,
  modelOptions,
  openObjects,
  openVectorStore,
} from "../../src/node/compose.js";
import { parseFunctionEnv } from "../../src/node/functions/env.js";
import { createLogger } from "../../src/node/logging.js";
import { parseEnv } from "../../src/node/server/env.js";
import { IndexMismatchError } from "../../src/node/server/index-check.js";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import {
  captureIo,
  fakeLoader,
  NEW_PACK,
  OLD_PACK,
  png,
  seedImage,
  tempDataDir,
  WideExtractor,
} from "../cli/reindex-helpers.js";
import { FakeQdrant } from "../store/qdrant-fake.js";

const FN = { WEBHOOK_SECRET: "whsec_dGVzdA==" };

let dataDir: string;
let old: WideExtractor;
let next: WideExtractor;

/** A data dir as a server on old@1 leaves it: one image, its record, blob and 32-d points. */
beforeEach(async () => {
  dataDir = await tempDataDir("rs-compose-");
  old = new WideExtractor(OLD_PACK, 1);
  next = new WideExtractor(NEW_PACK, 2);
  const bytes = await png(1);
  old.inner.setLabels(bytes, ["red star"]);
  next.inner.setLabels(bytes, ["red star"]);
  const live = await LanceVectorStore.open({ dir: embeddedVectorDir(dataDir) });
  await seedImage(dataDir, live, old, "default", "a", bytes);
  await live.close();
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const newPack = {
  pack: { id: NEW_PACK, vectorDim: 64 },
  extractor: null as unknown as WideExtractor,
};

describe("the start-up index check, from each entry's environment", () => {
  it("the local server's and the functions' environments refuse another pack's index with the same command", async () => {
    const server = parseEnv({ DATA_DIR: dataDir, MODEL_PACK: "packs/new" });
    const fn = parseFunctionEnv({ ...FN, DATA_DIR: dataDir, MODEL_PACK: "packs/new" });
    const messages: string[] = [];
    for (const env of [server, fn]) {
      const err = await checkIndexAtStart(env, { ...newPack, extractor: next }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(IndexMismatchError);
      messages.push((err as Error).message);
    }
    expect(messages[0]).toContain(`DATA_DIR=${dataDir} region-search reindex --pack packs/new`);
    expect(messages[1]).toBe(messages[0]);
  });

  it("a function swaps to a completed re-index the way the server does (catch-up through its object store), then is current", async () => {
    await runReindex({ batch: 1 }, captureIo({ DATA_DIR: dataDir }), fakeLoader(next));
    const fn = parseFunctionEnv({ ...FN, DATA_DIR: dataDir, MODEL_PACK: "packs/new" });
    expect(await checkIndexAtStart(fn, { ...newPack, extractor: next })).toMatchObject({
      status: "switched",
      from: "points",
      to: "points__new_2",
      caughtUp: 0,
    });
    expect(await checkIndexAtStart(fn, { ...newPack, extractor: next })).toMatchObject({
      status: "current",
    });
  });

  describe("with VECTOR_STORE=qdrant", () => {
    let fake: FakeQdrant;
    beforeAll(async () => {
      fake = await FakeQdrant.start();
    });
    afterAll(() => fake.close());

    it("the functions read QDRANT_* in their own schema, and check the collection as the server does", async () => {
      const live = await createQdrantStore({
        url: fake.url,
        collection: "fn_check",
        dim: 32,
        retry: { baseDelayMs: 1 },
      });
      const bytes = await png(2);
      old.inner.setLabels(bytes, ["blue moon"]);
      await seedImage(dataDir, live, old, "default", "b", bytes);
      const vars = {
        DATA_DIR: dataDir,
        MODEL_PACK: "models/next",
        VECTOR_STORE: "qdrant",
        QDRANT_URL: fake.url,
        QDRANT_COLLECTION: "fn_check",
      };
      for (const env of [parseEnv(vars), parseFunctionEnv({ ...FN, ...vars })]) {
        const err = await checkIndexAtStart(env, { ...newPack, extractor: next }).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(IndexMismatchError);
        expect((err as Error).message).toContain(
          `VECTOR_STORE=qdrant QDRANT_URL=${fake.url} QDRANT_COLLECTION=fn_check DATA_DIR=${dataDir} region-search reindex --pack models/next`,
        );
        expect(
          await checkIndexAtStart(env, { pack: { id: OLD_PACK, vectorDim: 32 }, extractor: old }),
        ).toMatchObject({ status: "current" });
      }
    });

    it("a missing QDRANT_URL fails the functions' environment as it fails the server's", () => {
      expect(() => parseFunctionEnv({ ...FN, VECTOR_STORE: "qdrant" })).toThrow(
        /QDRANT_URL: QDRANT_URL is required with VECTOR_STORE=qdrant/,
      );
      expect(() => parseEnv({ VECTOR_STORE: "qdrant" })).toThrow(
        /QDRANT_URL: QDRANT_URL is required with VECTOR_STORE=qdrant/,
      );
    });
  });
});

describe("opening stores", () => {
  it("objects: disk under DATA_DIR for the server, the object store of OBJECT_STORE for the functions", () => {
    expect(openObjects({ kind: "disk", dataDir }).catalog).toBeInstanceOf(FileCatalog);
    expect(
      openObjects({ kind: "gateway", url: "https://gw.example/", secrets: [FN.WEBHOOK_SECRET] })
        .catalog,
    ).toBeInstanceOf(ObjectCatalog);
  });

  it("the embedded vector store is DATA_DIR/vectors for every entry", async () => {
    const store = await openVectorStore({ kind: "embedded" }, { dataDir, indexThreshold: 10 });
    try {
      expect(await store.count("default")).toBe(2);
    } finally {
      await store.close?.();
    }
  });

  it("model options from either environment: MODEL_PACK unless a pack folder is given", () => {
    const fn = parseFunctionEnv({ ...FN, MODEL_PACK: "packs/a", ORT_INTRA_OP_THREADS: "2" });
    expect(modelOptions(fn)).toMatchObject({
      packDir: "packs/a",
      session: { intraOpNumThreads: 2 },
    });
    expect(
      modelOptions(parseEnv({}), { packDir: "packs/b", extractorThread: false }),
    ).toMatchObject({ packDir: "packs/b", extractorThread: false });
  });
});

describe("composeNode with the bundled pack", () => {
  it("opens the pack, checks the (empty) index and opens the storage; close releases it all", async () => {
    const empty = await tempDataDir("rs-compose-empty-");
    const env = parseFunctionEnv({
      ...FN,
      DATA_DIR: empty,
      MODEL_PACK: path.resolve("models/shapes-tiny"),
      ORT_INTRA_OP_THREADS: "1",
    });
    const composed = await composeNode(env, createLogger("silent"));
    try {
      expect(composed.models.pack.id).toMatch(/^shapes-tiny@/);
      expect(await composed.vectors.count("default")).toBe(0);
      expect(await composed.catalog.get("default", "none")).toBeNull();
    } finally {
      await composed.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
