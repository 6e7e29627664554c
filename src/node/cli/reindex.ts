/**
 * `region-search reindex [--pack DIR] [--tenant t]… [--batch N] [--switch | --no-switch]`: re-embeds
 * every indexed image of DATA_DIR's catalog (bytes from DATA_DIR's blobs) with a NEW model pack into
 * a NEW target, while the live index keeps serving (docs/reindex.md):
 *
 *   - embedded (VECTOR_STORE unset): the LanceDB table `points__<pack>` next to the live one in
 *     DATA_DIR/vectors. A running server is not disturbed (it reads the old table; this writes another).
 *     The swap — `active-table.json` pointed at the new table — happens at the next start of a server
 *     on the new pack (which first catches up with images indexed since), or here with `--switch`
 *     when no server is running.
 *   - Qdrant (VECTOR_STORE=qdrant, QDRANT_*): the next `<alias>_v<n>` collection, then one atomic
 *     alias switch (`--no-switch`: build and check only; a later run catches up and switches).
 *
 * Resumable: the state (target, and per image the point count written) is saved every `--batch`
 * images; a re-run skips an image only when the target holds exactly that many of its points. The
 * counts are checked per image at the end, before any switch. A target holding another pack's points
 * or another vector length is refused. Env as for `npm start`: DATA_DIR, MODEL_PACK, VECTOR_STORE, QDRANT_*.
 */
import { Command, InvalidArgumentError } from "commander";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RegionExtractor } from "../../lib/services.js";
import {
  qdrantClient,
  qdrantLayout,
  reindexQdrant,
  resolveOptions,
  type QdrantStoreOptions,
} from "../../lib/store/qdrant/index.js";
import {
  checkLayout,
  describeMismatches,
  indexedImages,
  LayoutMismatchError,
  reembedInto,
  reembedWith,
  verifyCounts,
  type Ledger,
  type ReembedProgress,
} from "../../lib/store/reembed.js";
import type { FileCatalog } from "../catalog/file-catalog.js";
import { embeddedVectorDir, openModels, openObjects } from "../compose.js";
import { isNotFound, writeFileAtomic } from "../fs-atomic.js";
import { parseEnv, type Env } from "../server/env.js";
import { embeddedFix } from "../server/index-check.js";
import { vectorStoreSettings } from "../storage-env.js";
import { LanceVectorStore } from "../store/lance.js";
import {
  activeTableName,
  packTableName,
  readReindexState,
  writeActiveTable,
  writeReindexState,
  type ReindexState,
} from "../store/lance-tables.js";
import { PROJECT_ROOT } from "./delegate.js";
import type { IngestProgress } from "./ingest.js";
import { progressBar } from "./progress.js";
import type { CliIo } from "./io.js";

export interface ReindexCommandOptions {
  /** The NEW pack's folder; default MODEL_PACK, else the bundled shapes-tiny. */
  pack?: string;
  dataDir?: string;
  /** Default: every tenant of the catalog. */
  tenant?: string[];
  /** Images between two saves of the state. */
  batch: number;
  /** Embedded: default false (the next server start swaps). Qdrant: default true. */
  switch?: boolean;
  keepOld?: boolean;
  /** Qdrant: where the state is kept; default DATA_DIR/reindex-qdrant-<alias>.json. */
  state?: string;
  json?: boolean;
  progress?: boolean;
}

/** The new pack as the re-index needs it. */
export interface LoadedPack {
  id: string;
  vectorDim: number;
  extractor: RegionExtractor;
  release(): Promise<void>;
}

export type PackLoader = (dir: string, env: Env) => Promise<LoadedPack>;

/** The pack's own extractor on this thread: nothing else runs here that it could block. */
const loadPackForReindex: PackLoader = async (dir, env) => {
  const models = await openModels(env, undefined, { packDir: dir, extractorThread: false });
  return {
    id: models.pack.id,
    vectorDim: models.pack.vectorDim,
    extractor: models.extractor,
    release: () => models.release(),
  };
};

export interface ReindexSummary {
  store: "embedded" | "qdrant";
  /** The store, for people: directory or URL. */
  location: string;
  pack: string;
  vectorDim: number;
  /** Pack of the live index before the run (null: empty). */
  previousPack: string | null;
  /** The live table or collection before the run. */
  live: string;
  /** The table or collection built. */
  target: string;
  /** True when the live index already holds this pack: nothing was done. */
  upToDate: boolean;
  images: number;
  embedded: number;
  skipped: number;
  pruned: number;
  points: number;
  /** Whether the target now holds every catalog tenant, counts checked. */
  complete: boolean;
  /** Whether this run made the target live. */
  switched: boolean;
  seconds: number;
  /** What to do next, for people. */
  next: string;
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
};

/** Adds `reindex` to the `region-search` program. */
export function addReindexCommand(
  program: Command,
  io: CliIo,
  loadPack: PackLoader = loadPackForReindex,
): void {
  program
    .command("reindex")
    .description(
      "Re-embed every indexed image with a new model pack into a new table (embedded) or collection (Qdrant), while the live index keeps serving; " +
        "resumable, point counts checked per image. Env as for `npm start` (DATA_DIR, MODEL_PACK, VECTOR_STORE, QDRANT_*).",
    )
    .option(
      "--pack <dir>",
      "the NEW model pack folder (env MODEL_PACK, default the bundled shapes-tiny)",
    )
    .option("--data-dir <dir>", "catalog, images and embedded store (env DATA_DIR, default ./data)")
    .option(
      "-t, --tenant <tenant>",
      "only this tenant (repeat for several; default: every tenant of the catalog)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--batch <n>", "images between two saves of the resume state", positiveInt, 16)
    .option(
      "--switch",
      "embedded: make the new table live now (only with no server running on DATA_DIR); Qdrant: switch the alias (default)",
    )
    .option(
      "--no-switch",
      "Qdrant: build and check the new collection, leave the alias (a later run catches up and switches)",
    )
    .option(
      "--keep-old",
      "Qdrant: keep the previous collection after the switch (rollback = one alias switch)",
    )
    .option(
      "--state <file>",
      "Qdrant: the resume state file (default DATA_DIR/reindex-qdrant-<collection>.json)",
    )
    .option("--json", "print the summary as JSON")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  region-search reindex --pack models/shapes-tiny              # embedded: build, the next server start switches\n" +
        "  region-search reindex --pack models/shapes-tiny --switch     # embedded, server stopped: build and switch now\n" +
        "  VECTOR_STORE=qdrant QDRANT_URL=http://localhost:6333 region-search reindex --pack models/shapes-tiny\n" +
        "See docs/reindex.md.\n",
    )
    .action(async (o: ReindexCommandOptions) => {
      const summary = await runReindex(o, io, loadPack);
      io.out(o.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
    });
}

export async function runReindex(
  o: ReindexCommandOptions,
  io: CliIo,
  loadPack: PackLoader = loadPackForReindex,
): Promise<ReindexSummary> {
  const env = parseEnv({ ...io.env, ...(o.dataDir ? { DATA_DIR: o.dataDir } : {}) });
  const packDir = o.pack ?? io.env.MODEL_PACK ?? path.join(PROJECT_ROOT, "models/shapes-tiny");
  const started = performance.now();
  const pack = await loadPack(packDir, env);
  try {
    const store = vectorStoreSettings(env, pack.vectorDim);
    const c = { o, io, env, pack, packDir };
    const summary =
      store.kind === "qdrant" ? await reindexToQdrant(c, store.options) : await reindexEmbedded(c);
    return { ...summary, seconds: Math.round((performance.now() - started) / 100) / 10 };
  } finally {
    await pack.release();
  }
}

interface RunContext {
  o: ReindexCommandOptions;
  io: CliIo;
  env: Env;
  pack: LoadedPack;
  packDir: string;
}

type RunSummary = Omit<ReindexSummary, "seconds">;

/** The progress bar (stderr, terminals only), restarted per pass; and the saves of the state every `batch` images. */
function reporter(c: RunContext, save: () => Promise<void>) {
  const bar: IngestProgress | undefined =
    c.o.progress !== false && c.io.isTTY && !c.o.json ? progressBar() : undefined;
  let since = performance.now();
  let unsaved = 0;
  return {
    onPass: (pass: number, total: number) => {
      bar?.stop();
      if (pass > 1 && total > 0)
        c.io.err(`catching up: ${total} image${total === 1 ? "" : "s"} indexed meanwhile\n`);
      since = performance.now();
      bar?.start(total);
    },
    onProgress: async (
      p: Pick<ReembedProgress, "done" | "embedded" | "points" | "embeddedCount" | "skippedCount">,
    ) => {
      const seconds = (performance.now() - since) / 1000;
      // Each embedded image wrote its regions and one whole-image point.
      bar?.update(p.done, {
        rate: seconds > 0 ? p.done / seconds : 0,
        regions: p.points - p.embeddedCount,
        skipped: p.skippedCount,
        failed: 0,
      });
      if (p.embedded && ++unsaved >= c.o.batch) {
        unsaved = 0;
        await save();
      }
    },
    stop: () => bar?.stop(),
  };
}

async function catalogTenants(
  catalog: FileCatalog,
  wanted: readonly string[] | undefined,
): Promise<{ tenants: string[]; all: boolean }> {
  const every = await catalog.tenants();
  if (!wanted?.length) return { tenants: every.sort(), all: true };
  if (new Set(wanted).size !== wanted.length) throw new Error("each tenant may be listed once");
  return { tenants: [...wanted], all: every.every((t) => wanted.includes(t)) };
}

async function reindexEmbedded(c: RunContext): Promise<RunSummary> {
  const { env, pack } = c;
  const dir = embeddedVectorDir(env.DATA_DIR);
  const { catalog, blobs } = openObjects({ kind: "disk", dataDir: env.DATA_DIR });
  const live = await activeTableName(dir);
  const held = await LanceVectorStore.inspect(dir, live);
  const target = packTableName(pack.id);
  const base = {
    store: "embedded" as const,
    location: dir,
    pack: pack.id,
    vectorDim: pack.vectorDim,
    previousPack: held.pack,
    live,
  };
  const none = { images: 0, embedded: 0, skipped: 0, pruned: 0, points: 0 };
  if (held.exists && held.dim === pack.vectorDim && (held.pack === pack.id || held.rows === 0)) {
    return {
      ...base,
      ...none,
      target: live,
      upToDate: true,
      complete: true,
      switched: false,
      next: `table "${live}" already holds ${pack.id}: nothing to re-index`,
    };
  }
  if (target === live) {
    // The live table is named after this pack but holds something else: only a hand-made mix gets here.
    checkLayout(`table "${live}" of the embedded store ${dir}`, held, {
      pack: pack.id,
      dim: pack.vectorDim,
    });
  }
  const { tenants, all } = await catalogTenants(catalog, c.o.tenant);
  const store = await LanceVectorStore.open({ dir, table: target });
  try {
    const layout = await store.layout();
    checkLayout(`table "${target}" of the embedded store ${dir}`, layout, {
      pack: pack.id,
      dim: pack.vectorDim,
    });
    const previous = await readReindexState(dir, target);
    if (previous && previous.pack !== pack.id) {
      throw new LayoutMismatchError(
        `refusing to mix layouts: table "${target}" is being built for model pack ${previous.pack}, not ${pack.id} (${path.basename(dir)}/${target}.reindex.json)`,
      );
    }
    // A state without its table (removed by hand) describes nothing that exists.
    const ledger: Ledger = layout.exists && previous ? previous.ledger : {};
    const now = () => new Date().toISOString();
    const state: ReindexState = {
      table: target,
      pack: pack.id,
      vectorDim: pack.vectorDim,
      from: previous?.from ?? { table: live, pack: held.pack },
      tenants: [
        ...new Set([...(previous?.complete ? [] : (previous?.tenants ?? [])), ...tenants]),
      ].sort(),
      complete: false,
      ledger,
      startedAt: previous?.startedAt ?? now(),
      updatedAt: now(),
    };
    const save = () => writeReindexState(dir, { ...state, updatedAt: now() });
    await save(); // complete: false from here until this run's counts check out
    const report = reporter(c, save);
    const counts = () => store.pointCounts();
    let r;
    try {
      r = await reembedInto(store, {
        pack: pack.id,
        dim: pack.vectorDim,
        images: () => indexedImages(catalog, tenants),
        embed: reembedWith({ blobs, extractor: pack.extractor }),
        ledger,
        storedCounts: counts,
        pruneTenants: tenants,
        onPass: report.onPass,
        onProgress: report.onProgress,
      });
    } finally {
      report.stop();
      await save(); // what was written and counted so far: the next run resumes from here
    }
    const mismatches = await verifyCounts(store, ledger, tenants, counts);
    if (mismatches.length)
      throw new Error(
        `table "${target}" does not hold what was written: ${describeMismatches(mismatches)}; run the command again to rewrite them`,
      );
    state.complete = all;
    await save();

    const result = {
      ...base,
      target,
      upToDate: false,
      images: r.images,
      embedded: r.embedded,
      skipped: r.skipped,
      pruned: r.pruned,
      points: r.points,
      complete: all,
    };
    const fix = embeddedFix(env.DATA_DIR, c.packDir);
    if (!all) {
      if (c.o.switch)
        throw new Error(
          `--switch needs every tenant of the catalog re-indexed (this run covered ${tenants.join(", ")}); run without --tenant`,
        );
      return {
        ...result,
        switched: false,
        next: `the other tenants are still missing: run ${fix} (without --tenant) to finish`,
      };
    }
    if (c.o.switch) {
      await writeActiveTable(dir, {
        table: target,
        pack: pack.id,
        previous: live,
        switchedAt: now(),
      });
      return {
        ...result,
        switched: true,
        next: `table "${target}" is live: start the server with MODEL_PACK=${c.packDir} (table "${live}" is kept for a rollback)`,
      };
    }
    return {
      ...result,
      switched: false,
      next: `start the server with MODEL_PACK=${c.packDir}: it catches up with images indexed since and switches to table "${target}" (or, with no server running: ${fix} --switch)`,
    };
  } finally {
    await store.close();
  }
}

/** What a Qdrant re-index keeps between runs (in a file: the collection cannot hold it). */
interface QdrantState {
  url: string;
  alias: string;
  target: string | null;
  pack: string;
  vectorDim: number;
  tenants: string[];
  ledger: Ledger;
  switched: boolean;
  startedAt: string;
  updatedAt: string;
}

async function readQdrantState(file: string): Promise<QdrantState | null> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as QdrantState;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw new Error(`cannot read the re-index state ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function reindexToQdrant(c: RunContext, options: QdrantStoreOptions): Promise<RunSummary> {
  const { env, pack } = c;
  const o = resolveOptions(options);
  const alias = o.collection;
  const file = c.o.state ?? path.join(env.DATA_DIR, `reindex-qdrant-${alias}.json`);
  const { catalog, blobs } = openObjects({ kind: "disk", dataDir: env.DATA_DIR });
  const location = `${o.url} (collection "${alias}")`;
  const client = qdrantClient(o);
  const held = await qdrantLayout(client, alias, o.retry);

  let saved = await readQdrantState(file);
  if (saved && (saved.url !== o.url || saved.alias !== alias)) {
    throw new Error(
      `${file} is the state of a re-index of "${saved.alias}" at ${saved.url}; pass another --state`,
    );
  }
  if (saved && saved.pack !== pack.id) {
    if (!saved.switched) {
      throw new LayoutMismatchError(
        `refusing to mix layouts: ${file} is an unfinished re-index to model pack ${saved.pack} (collection "${saved.target}"); ` +
          `finish it with --pack for that pack, or drop that collection and remove the file to start over`,
      );
    }
    saved = null; // a finished re-index to an earlier pack
  }
  const catchingUp = saved?.switched === true;
  const base = {
    store: "qdrant" as const,
    location,
    pack: pack.id,
    vectorDim: pack.vectorDim,
    previousPack: held.pack,
    live: alias,
  };
  if (
    !catchingUp &&
    held.dim === pack.vectorDim &&
    (held.pack === pack.id || held.pack === null) &&
    held.dim !== null
  ) {
    return {
      ...base,
      target: alias,
      upToDate: true,
      images: 0,
      embedded: 0,
      skipped: 0,
      pruned: 0,
      points: 0,
      complete: true,
      switched: false,
      next: `"${alias}" already holds ${pack.id}: nothing to re-index`,
    };
  }
  const { tenants, all } = await catalogTenants(catalog, c.o.tenant);
  if (c.o.switch && !all)
    throw new Error(
      `--switch needs every tenant of the catalog re-indexed (this run covers ${tenants.join(", ")}); run without --tenant`,
    );
  const now = () => new Date().toISOString();
  const state: QdrantState = {
    url: o.url,
    alias,
    target: saved?.target ?? null,
    pack: pack.id,
    vectorDim: pack.vectorDim,
    tenants,
    ledger: saved?.ledger ?? {},
    switched: catchingUp,
    startedAt: saved?.startedAt ?? now(),
    updatedAt: now(),
  };
  const save = () => writeFileAtomic(file, JSON.stringify({ ...state, updatedAt: now() }));
  const report = reporter(c, save);
  let result;
  try {
    result = await reindexQdrant({
      store: options,
      ...(state.target ? { target: state.target } : {}),
      pack: pack.id,
      ledger: state.ledger,
      images: () => indexedImages(catalog, tenants),
      embed: reembedWith({ blobs, extractor: pack.extractor }),
      tenants,
      switchAlias: c.o.switch !== false && all,
      ...(c.o.keepOld ? { keepOld: true } : {}),
      onPass: async (pass, total, target) => {
        if (state.target !== target) {
          state.target = target; // saved before anything is written to it: a re-run resumes it
          await save();
        }
        report.onPass(pass, total);
      },
      onProgress: report.onProgress,
    });
  } finally {
    report.stop();
    if (state.target) await save();
  }
  state.ledger = result.ledger;
  state.switched = result.switched || result.alreadyLive;
  await save();
  const counts = {
    images: result.embedded + result.skipped,
    embedded: result.embedded,
    skipped: result.skipped,
    pruned: result.pruned,
    points: result.points,
  };
  const out = {
    ...base,
    ...counts,
    target: result.target,
    upToDate: false,
    complete: all,
    switched: result.switched,
  };
  const again = `run the same command again`;
  if (result.alreadyLive)
    return {
      ...out,
      next: `"${alias}" already points at "${result.target}": caught up with images indexed since`,
    };
  if (result.switched) {
    return {
      ...out,
      next: `"${alias}" now points at "${result.target}"${result.dropped ? `; "${result.dropped}" was dropped` : ""}. Servers must run MODEL_PACK=${c.packDir} from now on`,
    };
  }
  if (!all)
    return {
      ...out,
      next: `the other tenants are still missing: ${again} without --tenant, which also switches "${alias}"`,
    };
  return {
    ...out,
    next: `"${result.target}" is built and checked; "${alias}" still points at "${result.previous}": ${again} without --no-switch to catch up and switch`,
  };
}

function formatSummary(s: ReindexSummary): string {
  if (s.upToDate) return `${s.next} (${s.location})`;
  const from = s.previousPack ?? "an empty index";
  return [
    `re-indexed ${s.images} image${s.images === 1 ? "" : "s"} of ${s.location} from ${from} to ${s.pack} (${s.vectorDim}-d) into ${s.store === "embedded" ? "table" : "collection"} "${s.target}" in ${s.seconds} s`,
    `  ${s.embedded} embedded, ${s.skipped} skipped (already whole), ${s.pruned} removed (gone from the catalog), ${s.points} points written; point counts checked per image`,
    `next: ${s.next}`,
  ].join("\n");
}
