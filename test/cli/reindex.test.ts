/**
 * `region-search reindex` on the embedded store (LanceDB under DATA_DIR/vectors), with fake packs of
 * another id and vector length (old@1: 32-d, new@2: 64-d): the new table is built beside the live
 * one, which stays untouched; the next start of a server on the new pack catches up with images
 * indexed and deleted since and switches `active-table.json`; an interrupted run resumes and rewrites
 * a partly written image; layouts are never mixed; a server on an index of another pack refuses to
 * start, naming both packs and the command. One run on the real bundled pack at the end.
 */
import { execFile } from "node:child_process";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pointId } from "../../src/lib/store/ids.js";
import type { StoredPoint } from "../../src/lib/store/types.js";
import { DiskBlobStore } from "../../src/node/blobs/disk-blobs.js";
import { FileCatalog } from "../../src/node/catalog/file-catalog.js";
import { PROJECT_ROOT } from "../../src/node/cli/delegate.js";
import { runCli } from "../../src/node/cli/program.js";
import { runReindex, type ReindexSummary } from "../../src/node/cli/reindex.js";
import { checkIndex, IndexMismatchError } from "../../src/node/server/index-check.js";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import {
  readActiveTable,
  readReindexState,
  reindexStateFile,
  writeReindexState,
} from "../../src/node/store/lance-tables.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";
import { sha256 } from "../support/fakes.js";
import {
  captureIo,
  deleteImage,
  fakeLoader,
  NEW_PACK,
  OLD_PACK,
  png,
  seedImage,
  tempDataDir,
  WideExtractor,
} from "./reindex-helpers.js";

const TARGET = "points__new_2";
/** Labels per image: 1, 2, 3 and 2 regions, so 2, 3, 4 and 3 points. */
const IMAGES = [
  { tenant: "default", id: "a", n: 1, labels: ["red star"] },
  { tenant: "default", id: "b", n: 2, labels: ["blue moon", "green tree"] },
  { tenant: "default", id: "c", n: 3, labels: ["red star", "blue moon", "striped square"] },
  { tenant: "bob", id: "x", n: 4, labels: ["tiny circle", "big circle"] },
];

let dataDir: string;
let dir: string;
let old: WideExtractor;
let next: WideExtractor;
const bytes = new Map<string, Uint8Array>();

async function label(n: number, labels: string[]): Promise<Uint8Array> {
  const b = await png(n);
  old.inner.setLabels(b, labels);
  next.inner.setLabels(b, labels);
  return b;
}

/** A data dir as a server on old@1 leaves it: catalog, blobs, table `points` of 32-d vectors. */
beforeEach(async () => {
  dataDir = await tempDataDir();
  dir = path.join(dataDir, "vectors");
  old = new WideExtractor(OLD_PACK, 1);
  next = new WideExtractor(NEW_PACK, 2);
  const live = await LanceVectorStore.open({ dir });
  for (const img of IMAGES) {
    const b = await label(img.n, img.labels);
    bytes.set(`${img.tenant}/${img.id}`, b);
    await seedImage(dataDir, live, old, img.tenant, img.id, b);
  }
  await live.close();
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ DATA_DIR: dataDir, ...extra });
const reindex = (
  o: Partial<Parameters<typeof runReindex>[0]> = {},
  extractor = next,
): Promise<ReindexSummary> =>
  runReindex({ batch: 1, ...o }, captureIo(env()), fakeLoader(extractor));
const catchUp = () => ({
  catalog: new FileCatalog(dataDir),
  blobs: new DiskBlobStore(dataDir),
  extractor: next,
});
const newPack = { id: NEW_PACK, vectorDim: 64, dir: "packs/new" };

async function countsOf(table?: string): Promise<Record<string, number>> {
  const store = await LanceVectorStore.open({ dir, ...(table ? { table } : {}) });
  try {
    return Object.fromEntries([...(await store.pointCounts())].sort());
  } finally {
    await store.close();
  }
}

describe("region-search reindex (embedded)", () => {
  it("builds the new pack's table beside the live one; the next start catches up with what changed and switches", async () => {
    const r = await reindex();
    expect(r).toMatchObject({
      store: "embedded",
      pack: NEW_PACK,
      vectorDim: 64,
      previousPack: OLD_PACK,
      live: "points",
      target: TARGET,
      upToDate: false,
      images: 4,
      embedded: 4,
      skipped: 0,
      pruned: 0,
      points: 12,
      complete: true,
      switched: false,
    });
    expect(r.next).toMatch(
      /start the server with MODEL_PACK=.*catches up .* switches to table "points__new_2"/,
    );
    // The live table is untouched: still old@1, and still what a server opening the store gets.
    expect(await readActiveTable(dir)).toBeNull();
    const live = await LanceVectorStore.open({ dir });
    expect(live.tableName).toBe("points");
    expect(await live.layout()).toMatchObject({ pack: OLD_PACK, dim: 32, rows: 12 });
    const built = await LanceVectorStore.inspect(dir, TARGET);
    expect(built).toMatchObject({ pack: NEW_PACK, dim: 64, rows: 12 });
    expect(await countsOf(TARGET)).toEqual({
      "bob/x": 3,
      "default/a": 2,
      "default/b": 3,
      "default/c": 4,
    });
    expect((await readReindexState(dir, TARGET))!).toMatchObject({
      complete: true,
      pack: NEW_PACK,
      from: { table: "points", pack: OLD_PACK },
    });

    // Meanwhile the server on old@1 indexes one more image and deletes one.
    await seedImage(dataDir, live, old, "default", "d", await label(5, ["late arrival"]));
    await deleteImage(dataDir, live, "default", "a");
    await live.close();

    // A server on old@1 still starts (the pointer has not moved) ...
    expect(
      await checkIndex(
        { kind: "embedded", dataDir },
        { id: OLD_PACK, vectorDim: 32, dir: "packs/old" },
        { catchUp },
      ),
    ).toMatchObject({ status: "current" });
    // ... and one on new@2 catches up, checks and switches.
    next.calls = [];
    const result = await checkIndex({ kind: "embedded", dataDir }, newPack, { catchUp });
    expect(result).toMatchObject({
      status: "switched",
      from: "points",
      to: TARGET,
      caughtUp: 1,
      pruned: 1,
    });
    expect(next.calls).toEqual([
      sha256((await new DiskBlobStore(dataDir).get("default", "d"))!.bytes),
    ]);
    expect(await readActiveTable(dir)).toMatchObject({
      table: TARGET,
      pack: NEW_PACK,
      previous: "points",
    });
    expect(await countsOf()).toEqual({
      "bob/x": 3,
      "default/b": 3,
      "default/c": 4,
      "default/d": 2,
    });

    const served = await LanceVectorStore.open({ dir });
    expect(served.tableName).toBe(TARGET);
    const hits = await served.search(
      "default",
      (await next.extract(bytes.get("default/b")!)).regions[0]!.vector,
      { limit: 1 },
    );
    expect(hits[0]!.payload).toMatchObject({ imageId: "b", pack: NEW_PACK, regionIndex: 0 });
    await served.close();
    expect(await checkIndex({ kind: "embedded", dataDir }, newPack, { catchUp })).toMatchObject({
      status: "current",
    });
    // A re-run now has nothing to do.
    expect(await reindex()).toMatchObject({ upToDate: true, target: TARGET, embedded: 0 });
  });

  it("a catch-up that fails at start-up leaves the old table live; the next start switches", async () => {
    await reindex();
    const live = await LanceVectorStore.open({ dir });
    const late = await label(6, ["late arrival"]);
    await seedImage(dataDir, live, old, "default", "d", late);
    await live.close();
    next.failOn = sha256(late);
    await expect(checkIndex({ kind: "embedded", dataDir }, newPack, { catchUp })).rejects.toThrow(
      /catching up table "points__new_2" before switching to it failed: model crashed \(injected\)\. Table "points" is still the live one/,
    );
    expect(await readActiveTable(dir)).toBeNull();
    next.failOn = null;
    expect(await checkIndex({ kind: "embedded", dataDir }, newPack, { catchUp })).toMatchObject({
      status: "switched",
      caughtUp: 1,
    });
  });

  it("--switch (no server running) makes the new table live at once", async () => {
    const r = await reindex({ switch: true });
    expect(r).toMatchObject({ switched: true, complete: true, embedded: 4 });
    expect(await readActiveTable(dir)).toMatchObject({ table: TARGET, previous: "points" });
    expect((await LanceVectorStore.inspect(dir, TARGET)).rows).toBe(12);
    // A server on the old pack now refuses to start, naming the command that goes back.
    const err = await checkIndex(
      { kind: "embedded", dataDir },
      { id: OLD_PACK, vectorDim: 32, dir: "packs/old" },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexMismatchError);
    expect((err as Error).message).toContain(
      `holds points of model pack ${NEW_PACK} (64-dimensional vectors)`,
    );
    expect((err as Error).message).toContain(
      `DATA_DIR=${dataDir} region-search reindex --pack packs/old`,
    );
  });

  it("resumes an interrupted run: images whole in the table are skipped, a partly written or unrecorded one is written again", async () => {
    // Order: tenants sorted (bob, default), then ids: bob/x, default/a, default/b, default/c.
    next.failOn = sha256(bytes.get("default/c")!);
    await expect(reindex()).rejects.toThrow(/injected/);
    const state = (await readReindexState(dir, TARGET))!;
    expect(state.complete).toBe(false);
    expect(Object.keys(state.ledger).sort()).toEqual(["bob/x", "default/a", "default/b"]);
    expect(await readActiveTable(dir)).toBeNull();

    // A crash while writing default/b left 1 of its 3 points; bob/x was written but the state saved before it.
    const target = await LanceVectorStore.open({ dir, table: TARGET });
    const b = await target.listImage("default", "b");
    await target.deleteImage("default", "b", [b[0]!.id]);
    await target.close();
    const { "bob/x": _x, ...rest } = state.ledger;
    await writeReindexState(dir, { ...state, ledger: rest });

    next.failOn = null;
    next.calls = [];
    const r = await reindex();
    expect(next.calls).toEqual(
      ["bob/x", "default/b", "default/c"].map((k) => sha256(bytes.get(k)!)),
    );
    expect(r).toMatchObject({
      images: 4,
      embedded: 3,
      skipped: 1,
      points: 3 + 3 + 4,
      complete: true,
    });
    expect(await countsOf(TARGET)).toEqual({
      "bob/x": 3,
      "default/a": 2,
      "default/b": 3,
      "default/c": 4,
    });
    expect((await readReindexState(dir, TARGET))!.ledger).toEqual({
      "bob/x": { points: 3, sha256: sha256(bytes.get("bob/x")!) },
      "default/a": { points: 2, sha256: sha256(bytes.get("default/a")!) },
      "default/b": { points: 3, sha256: sha256(bytes.get("default/b")!) },
      "default/c": { points: 4, sha256: sha256(bytes.get("default/c")!) },
    });
  });

  it("a table that lost points of an image after it was written is not complete: no start switches to it, a re-run repairs it", async () => {
    const extract = next.extract.bind(next);
    next.extract = async (b) => {
      // While the last image is embedded, one point of the first (bob/x) disappears from the new table.
      if (next.calls.length === 3) {
        const t = await LanceVectorStore.open({ dir, table: TARGET });
        const x = await t.listImage("bob", "x");
        await t.deleteImage(
          "bob",
          "x",
          x.slice(1).map((p) => p.id),
        );
        await t.close();
      }
      return extract(b);
    };
    await expect(reindex()).rejects.toThrow(
      `table "${TARGET}" does not hold what was written: 1 image with the wrong point count: bob/x (3 expected, 2 stored)`,
    );
    expect((await readReindexState(dir, TARGET))!.complete).toBe(false);
    await expect(checkIndex({ kind: "embedded", dataDir }, newPack, { catchUp })).rejects.toThrow(
      /is not finished/,
    );
    next.extract = extract;
    expect(await reindex()).toMatchObject({ embedded: 1, skipped: 3, complete: true });
  });

  it("re-embeds an image re-uploaded under the same id since it was written", async () => {
    await reindex();
    const live = await LanceVectorStore.open({ dir });
    await seedImage(
      dataDir,
      live,
      old,
      "default",
      "a",
      await label(9, ["new bytes", "two regions", "three"]),
    );
    await live.close();
    next.calls = [];
    expect(await reindex()).toMatchObject({ embedded: 1, skipped: 3 });
    expect((await countsOf(TARGET))["default/a"]).toBe(4);
  });

  it("--tenant covers only those tenants: the table is not complete, so no start switches to it", async () => {
    const r = await reindex({ tenant: ["bob"] });
    expect(r).toMatchObject({ images: 1, complete: false });
    await expect(reindex({ tenant: ["bob"], switch: true })).rejects.toThrow(
      /--switch needs every tenant/,
    );
    const err = await checkIndex({ kind: "embedded", dataDir }, newPack, { catchUp }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(
      /is not finished \(1 images so far\); the same command resumes it/,
    );
    expect(await readActiveTable(dir)).toBeNull();
  });
});

describe("refusing to mix layouts", () => {
  const foreign = (tenant: string, imageId: string, dim: number, pack: string): StoredPoint => {
    const vector = new Float32Array(dim).fill(1 / Math.sqrt(dim));
    return {
      id: pointId(tenant, imageId, -1, pack),
      vector,
      payload: {
        tenant,
        imageId,
        kind: "image",
        regionIndex: -1,
        bbox: [0, 0, 1, 1],
        area: 1,
        predictedIou: 1,
        stability: 1,
        mask: null,
        pack,
        imageWidth: 1,
        imageHeight: 1,
        createdAt: "2025-01-01T00:00:00.000Z",
      },
    };
  };

  it("a target table holding another pack's points, or another vector length, is refused before anything is written", async () => {
    const t = await LanceVectorStore.open({ dir, table: TARGET });
    await t.upsert("default", [foreign("default", "zz", 64, "other@9")]);
    await t.close();
    await expect(reindex()).rejects.toThrow(
      `refusing to mix layouts in table "${TARGET}" of the embedded store ${dir}: its points are of model pack other@9, these of ${NEW_PACK}`,
    );
    expect(next.calls).toEqual([]);
    expect((await LanceVectorStore.inspect(dir, TARGET)).rows).toBe(1);

    await rm(path.join(dir, `${TARGET}.lance`), { recursive: true });
    const u = await LanceVectorStore.open({ dir, table: TARGET });
    await u.upsert("default", [foreign("default", "zz", 48, NEW_PACK)]);
    await u.close();
    await expect(reindex()).rejects.toThrow(
      /it holds 48-dimensional vectors, these are 64-dimensional/,
    );
    expect(next.calls).toEqual([]);
  });

  it("a pack whose extractor changes vector length mid-run is stopped at that image", async () => {
    const extractor = new WideExtractor(NEW_PACK, 2);
    for (const img of IMAGES)
      extractor.inner.setLabels(bytes.get(`${img.tenant}/${img.id}`)!, img.labels);
    const extract = extractor.extract.bind(extractor);
    extractor.extract = async (b) => {
      if (extractor.calls.length === 2) extractor.dimOverride = 96; // the third image: default/b
      return extract(b);
    };
    await expect(reindex({}, extractor)).rejects.toThrow(
      /refusing to mix layouts: image default\/b produced a 96-dimensional point of model pack new@2, but this re-index writes 64-dimensional points/,
    );
    expect(await countsOf(TARGET)).toEqual({ "bob/x": 3, "default/a": 2 });
  });

  it("the embedded store refuses a vector of another length (LanceDB alone would pad or cut it silently)", async () => {
    const live = await LanceVectorStore.open({ dir });
    await expect(live.upsert("default", [foreign("default", "zz", 64, NEW_PACK)])).rejects.toThrow(
      /a point's vector has 64 dimensions but the embedded store's table "points" holds 32-dimensional vectors/,
    );
    await expect(
      live.replaceImage("default", "zz", [foreign("default", "zz", 16, OLD_PACK)]),
    ).rejects.toThrow(/has 16 dimensions/);
    await expect(
      live.search("default", new Float32Array(64).fill(0.125), { limit: 3 }),
    ).rejects.toThrow(/a query vector has 64 dimensions/);
    expect(await live.count("default", { imageIds: ["zz"] })).toBe(0);
    await live.close();
  });
});

describe("start-up detection", () => {
  // What the entries pass (the store from DATA_DIR, the pack they loaded, MODEL_PACK as given); the
  // entries themselves are run below as users run them.
  const check = (
    pack: { id: string; vectorDim: number },
    packDir = "models/shapes-tiny",
    at = dataDir,
  ) => checkIndex({ kind: "embedded", dataDir: at }, { ...pack, dir: packDir }, { catchUp });

  it("a server on another pack refuses to start, naming both packs and the exact command", async () => {
    const err = await check({ id: NEW_PACK, vectorDim: 64 }, "models/next pack").catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IndexMismatchError);
    const message = (err as Error).message;
    expect(message).toContain(
      `the embedded store ${dir} (table "points") holds points of model pack ${OLD_PACK} (32-dimensional vectors)`,
    );
    expect(message).toContain(
      `the model pack models/next pack is ${NEW_PACK} (64-dimensional vectors)`,
    );
    expect(message).toContain(
      `\n  DATA_DIR=${dataDir} region-search reindex --pack 'models/next pack'\n`,
    );
    expect(message).toContain("docs/reindex.md");
  });

  it("passes an empty store, and a store of its own pack", async () => {
    const empty = await tempDataDir();
    try {
      expect(
        await check({ id: NEW_PACK, vectorDim: 64 }, "models/shapes-tiny", empty),
      ).toMatchObject({ status: "empty" });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    expect(await check({ id: OLD_PACK, vectorDim: 32 })).toMatchObject({ status: "current" });
  });

  it("a table created for another vector length is named as such, even emptied (not an Arrow error at the first write)", async () => {
    const live = await LanceVectorStore.open({ dir });
    for (const img of IMAGES) await live.deleteImage(img.tenant, img.id);
    await live.close();
    // Same pack id, another layout: the version was not bumped.
    const err = await check({ id: OLD_PACK, vectorDim: 64 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexMismatchError);
    expect((err as Error).message).toContain(
      `(table "points") holds no points, but was created for 32-dimensional vectors, while the model pack models/shapes-tiny is ${OLD_PACK} (64-dimensional vectors)`,
    );
  });

  it("`--embedded` (the bundled pack) refuses an index of another pack with the same message", async () => {
    const r = captureIo(env({ MODEL_PACK: path.join(PROJECT_ROOT, "models/shapes-tiny") }));
    const code = await runCli(["--embedded", "search", "red star"], r);
    expect(code).toBe(1);
    expect(r.output().err).toMatch(
      new RegExp(
        `^region-search: the vector index was built with another model pack: .* ${OLD_PACK} \\(32-dimensional vectors\\)`,
      ),
    );
    expect(r.output().err).toContain(
      `DATA_DIR=${dataDir} region-search reindex --pack ${path.join(PROJECT_ROOT, "models/shapes-tiny")}`,
    );
  });

  it("`npm start` (functions/local.ts) exits 1 with the message before listening", async () => {
    const run = promisify(execFile);
    const err = await run(process.execPath, ["--import", "tsx", "functions/local.ts"], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        PORT: "18797",
        LOG_LEVEL: "error",
        MODEL_PACK: "models/shapes-tiny",
      },
      timeout: 50_000,
    }).then(
      () => null,
      (e: unknown) => e as { code: number; stderr: string; stdout: string },
    );
    expect(err).not.toBeNull();
    expect(err!.code).toBe(1);
    expect(err!.stderr).toContain(
      `holds points of model pack ${OLD_PACK} (32-dimensional vectors)`,
    );
    expect(err!.stderr).toContain(
      `DATA_DIR=${dataDir} region-search reindex --pack models/shapes-tiny`,
    );
    expect(err!.stdout).not.toMatch(/listening/);
  });

  it("the ingest and query functions (functions/*.ts as containers run them) exit 1 with the message", async () => {
    const run = promisify(execFile);
    const start = (entry: string) =>
      run(process.execPath, ["--import", "tsx", entry], {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          PORT: "18798",
          WEBHOOK_SECRET: "whsec_test",
          MODEL_PACK: "models/shapes-tiny",
        },
        timeout: 50_000,
      }).then(
        () => null,
        (e: unknown) => e as { code: number; stderr: string; stdout: string },
      );
    for (const err of await Promise.all([
      start("functions/ingest.ts"),
      start("functions/query.ts"),
    ])) {
      expect(err?.code).toBe(1);
      const fatal = JSON.parse(err!.stdout.trim().split("\n").at(-1)!) as {
        msg: string;
        err: { type: string; message: string };
      };
      expect(fatal.msg).toMatch(/function failed to start/);
      expect(fatal.err.type).toBe("IndexMismatchError");
      expect(fatal.err.message).toContain(
        `holds points of model pack ${OLD_PACK} (32-dimensional vectors)`,
      );
      expect(fatal.err.message).toContain(
        `DATA_DIR=${dataDir} region-search reindex --pack models/shapes-tiny`,
      );
    }
  });
});

describe("with the real bundled pack", () => {
  it("re-indexes shapes scenes from a fake pack into the bundled one and switches; `--embedded search` then serves it", async () => {
    const scenes = readShapesSplit(SHAPES_FIXTURE_DIR, 2);
    const fresh = await tempDataDir();
    try {
      const live = await LanceVectorStore.open({ dir: path.join(fresh, "vectors") });
      for (const [i, scene] of scenes.entries())
        await seedImage(
          fresh,
          live,
          old,
          "default",
          `scene${i}`,
          new Uint8Array(await readFile(scene.png)),
        );
      await live.close();
      const packDir = path.join(PROJECT_ROOT, "models/shapes-tiny");
      const started = performance.now();
      const io = captureIo({ DATA_DIR: fresh });
      const code = await runCli(["reindex", "--pack", packDir, "--switch", "--json"], io);
      expect(io.output().err).toBe("");
      expect(code).toBe(0);
      const summary = JSON.parse(io.output().out) as ReindexSummary;
      expect(summary).toMatchObject({
        store: "embedded",
        previousPack: OLD_PACK,
        images: 2,
        embedded: 2,
        complete: true,
        switched: true,
      });
      expect(summary.pack).toMatch(/^shapes-tiny@/);
      const active = (await readActiveTable(path.join(fresh, "vectors")))!;
      const layout = await LanceVectorStore.inspect(path.join(fresh, "vectors"), active.table);
      expect(layout).toMatchObject({
        pack: summary.pack,
        dim: summary.vectorDim,
        rows: summary.points,
      });
      expect(summary.points).toBeGreaterThan(2);

      const search = captureIo({ DATA_DIR: fresh, MODEL_PACK: packDir });
      expect(
        await runCli(["--embedded", "search", scenes[0]!.objects[0]!.caption, "--json"], search),
      ).toBe(0);
      const hits = (JSON.parse(search.output().out) as { results: { imageId: string }[] }).results;
      expect(hits.length).toBeGreaterThan(0);
      expect(performance.now() - started).toBeLessThan(20_000);
      await expect(
        stat(reindexStateFile(path.join(fresh, "vectors"), active.table)),
      ).resolves.toBeTruthy();
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
