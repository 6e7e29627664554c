/**
 * `region-search reindex` with VECTOR_STORE=qdrant, on the in-process fake Qdrant: a deployment as
 * bootstrap set it up (`<alias>` → `<alias>_v1`, old@1 32-d points) is re-embedded with new@2 (64-d)
 * into `<alias>_v2`, checked and switched in one alias request; `--no-switch` builds only and a later
 * run catches up and switches; an interrupted run resumes its own collection and rewrites a partly
 * written image; another pack is refused; the start-up check names the command with the Qdrant env.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createQdrantStore, type QdrantVectorStore } from "../../src/lib/store/qdrant/index.js";
import {
  runReindex,
  type ReindexCommandOptions,
  type ReindexSummary,
} from "../../src/node/cli/reindex.js";
import { checkIndex, IndexMismatchError } from "../../src/node/server/index-check.js";
import { sha256 } from "../support/fakes.js";
import { FakeQdrant } from "../store/qdrant-fake.js";
import {
  captureIo,
  fakeLoader,
  NEW_PACK,
  OLD_PACK,
  png,
  seedImage,
  tempDataDir,
  WideExtractor,
} from "./reindex-helpers.js";

const IMAGES = [
  { tenant: "default", id: "a", n: 1, labels: ["red star"] },
  { tenant: "default", id: "b", n: 2, labels: ["blue moon", "green tree"] },
  { tenant: "default", id: "c", n: 3, labels: ["red star", "blue moon", "striped square"] },
  { tenant: "bob", id: "x", n: 4, labels: ["tiny circle", "big circle"] },
];

let fake: FakeQdrant;
let seq = 0;
let alias: string;
let dataDir: string;
let old: WideExtractor;
let next: WideExtractor;
let live: QdrantVectorStore;
const bytes = new Map<string, Uint8Array>();

beforeAll(async () => {
  fake = await FakeQdrant.start();
});
afterAll(() => fake.close());

async function label(n: number, labels: string[]): Promise<Uint8Array> {
  const b = await png(n);
  old.inner.setLabels(b, labels);
  next.inner.setLabels(b, labels);
  return b;
}

beforeEach(async () => {
  alias = `regions_${seq++}`;
  dataDir = await tempDataDir("rs-reindex-qdrant-");
  old = new WideExtractor(OLD_PACK, 1);
  next = new WideExtractor(NEW_PACK, 2);
  // What a server on old@1 sets up and writes.
  live = await createQdrantStore({
    url: fake.url,
    collection: alias,
    dim: 32,
    retry: { baseDelayMs: 1 },
  });
  for (const img of IMAGES) {
    const b = await label(img.n, img.labels);
    bytes.set(`${img.tenant}/${img.id}`, b);
    await seedImage(dataDir, live, old, img.tenant, img.id, b);
  }
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({
  DATA_DIR: dataDir,
  VECTOR_STORE: "qdrant",
  QDRANT_URL: fake.url,
  QDRANT_COLLECTION: alias,
  ...extra,
});
const reindex = (
  o: Partial<ReindexCommandOptions> = {},
  extractor = next,
): Promise<ReindexSummary> =>
  runReindex({ batch: 1, ...o }, captureIo(env()), fakeLoader(extractor));
const stateFile = () => path.join(dataDir, `reindex-qdrant-${alias}.json`);
const packsIn = (collection: string) =>
  new Set([...fake.engine.collections.get(collection)!.points.values()].map((p) => p.payload.pack));
const countsIn = (collection: string) => {
  const out: Record<string, number> = {};
  for (const p of fake.engine.collections.get(collection)!.points.values()) {
    const key = `${String(p.payload.tenant)}/${String(p.payload.image_id)}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};

describe("region-search reindex (Qdrant)", () => {
  it("re-embeds into the next versioned collection, checks the counts, switches the alias in one request and drops the old one", async () => {
    const before = fake.requests.length;
    const r = await reindex();
    expect(r).toMatchObject({
      store: "qdrant",
      pack: NEW_PACK,
      vectorDim: 64,
      previousPack: OLD_PACK,
      live: alias,
      target: `${alias}_v2`,
      images: 4,
      embedded: 4,
      skipped: 0,
      points: 12,
      complete: true,
      switched: true,
    });
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v2`);
    expect(fake.engine.collections.has(`${alias}_v1`)).toBe(false);
    expect(fake.engine.collections.get(`${alias}_v2`)!.vectors.region!.size).toBe(64);
    expect(packsIn(`${alias}_v2`)).toEqual(new Set([NEW_PACK]));
    expect(countsIn(`${alias}_v2`)).toEqual({
      "bob/x": 3,
      "default/a": 2,
      "default/b": 3,
      "default/c": 4,
    });
    const switches = fake.requests.slice(before).filter((q) => q.operationId === "update_aliases");
    expect(switches.map((q) => q.body)).toEqual([
      {
        actions: [{ create_alias: { collection_name: `${alias}_v2`, alias_name: alias } }],
      },
    ]);
    expect(fake.requests.slice(before).flatMap((q) => q.errors)).toEqual([]);
    const state = JSON.parse(await readFile(stateFile(), "utf8")) as {
      target: string;
      switched: boolean;
      ledger: Record<string, unknown>;
    };
    expect(state).toMatchObject({ target: `${alias}_v2`, switched: true });
    expect(Object.keys(state.ledger).length).toBe(4);

    // A re-run after the switch catches up (nothing new here) and switches nothing.
    expect(await reindex()).toMatchObject({
      target: `${alias}_v2`,
      embedded: 0,
      skipped: 4,
      switched: false,
    });
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v2`);
  });

  it("--no-switch builds and checks only; images indexed meanwhile are caught up by the run that switches", async () => {
    const built = await reindex({ switch: false });
    expect(built).toMatchObject({ target: `${alias}_v2`, embedded: 4, switched: false });
    expect(built.next).toMatch(/still points at .*_v1/);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v1`);

    // The old servers go on indexing through the alias meanwhile.
    await seedImage(dataDir, live, old, "default", "d", await label(5, ["late arrival"]));
    next.calls = [];
    const r = await reindex();
    expect(r).toMatchObject({ target: `${alias}_v2`, embedded: 1, skipped: 4, switched: true });
    expect(next.calls).toEqual([sha256(await png(5))]);
    expect(countsIn(`${alias}_v2`)["default/d"]).toBe(2);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v2`);
  });

  it("resumes an interrupted run in the same collection; an image left partly written is written again", async () => {
    next.failOn = sha256(bytes.get("default/c")!);
    await expect(reindex()).rejects.toThrow(/injected/);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v1`);
    const state = JSON.parse(await readFile(stateFile(), "utf8")) as {
      target: string;
      ledger: Record<string, { points: number }>;
    };
    expect(state.target).toBe(`${alias}_v2`);
    expect(Object.keys(state.ledger).sort()).toEqual(["bob/x", "default/a", "default/b"]);

    // default/b lost points (a half-applied write): the count no longer matches its ledger entry.
    const target = fake.engine.collections.get(`${alias}_v2`)!;
    const ofB = [...target.points.entries()].filter(([, p]) => p.payload.image_id === "b");
    for (const [key] of ofB.slice(1)) target.points.delete(key);

    next.failOn = null;
    next.calls = [];
    const r = await reindex();
    expect(r).toMatchObject({ target: `${alias}_v2`, embedded: 2, skipped: 2, switched: true });
    expect(next.calls).toEqual(["default/b", "default/c"].map((k) => sha256(bytes.get(k)!)));
    expect(countsIn(`${alias}_v2`)).toEqual({
      "bob/x": 3,
      "default/a": 2,
      "default/b": 3,
      "default/c": 4,
    });
  });

  it("does not switch when the new collection lost points of an image after it was written", async () => {
    const extract = next.extract.bind(next);
    next.extract = async (b) => {
      // While the last image is embedded, one point of the first (bob/x) disappears from the target.
      if (next.calls.length === 3) {
        const target = fake.engine.collections.get(`${alias}_v2`)!;
        const [key] = [...target.points.entries()].find(([, p]) => p.payload.image_id === "x")!;
        target.points.delete(key);
      }
      return extract(b);
    };
    await expect(reindex()).rejects.toThrow(
      `"${alias}_v2" does not hold what was written, not switching "${alias}" to it: 1 image with the wrong point count: bob/x (3 expected, 2 stored)`,
    );
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v1`);
    // The re-run rewrites it and switches.
    next.extract = extract;
    expect(await reindex()).toMatchObject({ embedded: 1, skipped: 3, switched: true });
  });

  it("refuses a target of another pack, and an unfinished re-index to another pack", async () => {
    // An earlier, unfinished run to other@9 left its state behind.
    const other = new WideExtractor("other@9", 2);
    other.failOn = sha256(bytes.get("default/a")!);
    await expect(reindex({}, other)).rejects.toThrow(/injected/);
    await expect(reindex()).rejects.toThrow(
      /refusing to mix layouts: .* is an unfinished re-index to model pack other@9 \(collection "regions_\d+_v2"\)/,
    );

    // Told to resume into that collection anyway (the state rewritten by hand): its points are of other@9.
    const state = JSON.parse(await readFile(stateFile(), "utf8")) as Record<string, unknown>;
    await writeFile(stateFile(), JSON.stringify({ ...state, pack: NEW_PACK }));
    next.calls = [];
    await expect(reindex()).rejects.toThrow(
      `refusing to mix layouts in Qdrant collection "${alias}_v2": its points are of model pack other@9, these of ${NEW_PACK}`,
    );
    expect(next.calls).toEqual([]);
    expect(fake.engine.aliases.get(alias)).toBe(`${alias}_v1`);
  });

  it("a target collection of another vector size is refused before anything is written", async () => {
    fake.engine.create(`${alias}_mine`, { vectors: { region: { size: 48, distance: "Cosine" } } });
    await writeFile(
      stateFile(),
      JSON.stringify({
        url: fake.url,
        alias,
        target: `${alias}_mine`,
        pack: NEW_PACK,
        vectorDim: 64,
        tenants: [],
        ledger: {},
        switched: false,
      }),
    );
    await expect(reindex()).rejects.toThrow(
      `refusing to mix layouts in Qdrant collection "${alias}_mine": it holds 48-dimensional vectors, these are 64-dimensional`,
    );
    expect(next.calls).toEqual([]);
  });
});

describe("start-up detection (Qdrant)", () => {
  // What the entries pass with VECTOR_STORE=qdrant: the QDRANT_* options with the pack's length, DATA_DIR, MODEL_PACK.
  const server = (pack: string, dim: number, o: { apiKey?: string; collection?: string } = {}) =>
    checkIndex(
      {
        kind: "qdrant",
        options: {
          url: fake.url,
          collection: o.collection ?? alias,
          dim,
          ...(o.apiKey ? { apiKey: o.apiKey } : {}),
        },
        dataDir,
      },
      { id: pack, vectorDim: dim, dir: "models/next" },
    );

  it("a server on the new pack refuses the old collection with the exact command; after the re-index it starts, one on the old pack refuses", async () => {
    const err = await server(NEW_PACK, 64, { apiKey: "secret-key" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexMismatchError);
    const message = (err as Error).message;
    expect(message).toContain(
      `the Qdrant collection "${alias}" (alias of "${alias}_v1") at ${fake.url} holds points of model pack ${OLD_PACK} (32-dimensional vectors)`,
    );
    expect(message).toContain(`is ${NEW_PACK} (64-dimensional vectors)`);
    expect(message).toContain(
      `\n  VECTOR_STORE=qdrant QDRANT_URL=${fake.url} QDRANT_COLLECTION=${alias} DATA_DIR=${dataDir} region-search reindex --pack models/next\n`,
    );
    expect(message).toContain("with QDRANT_API_KEY set as for this server");
    expect(message).not.toContain("secret-key");

    await reindex();
    expect(await server(NEW_PACK, 64)).toMatchObject({ status: "current" });
    const stale = await server(OLD_PACK, 32).catch((e: unknown) => e);
    expect((stale as Error).message).toContain(
      `holds points of model pack ${NEW_PACK} (64-dimensional vectors)`,
    );
  });

  it("the same vector size but another pack is detected too (the first point's pack)", async () => {
    const err = await server("old@2", 32).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexMismatchError);
    expect((err as Error).message).toContain(
      `holds points of model pack ${OLD_PACK} (32-dimensional vectors), while the model pack models/next is old@2 (32-dimensional vectors)`,
    );
    expect(await server(OLD_PACK, 32)).toMatchObject({ status: "current" });
  });

  it("an alias that names nothing yet (a fresh deployment) passes", async () => {
    expect(await server(NEW_PACK, 64, { collection: `fresh_${seq++}` })).toMatchObject({
      status: "empty",
    });
  });
});
