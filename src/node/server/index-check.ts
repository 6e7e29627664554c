/**
 * The start-up check of the vector index against the model pack (docs/reindex.md): every entry that
 * opens the store (the local server, the embedded CLI, the ingest and query functions) runs it after
 * loading the pack and before opening the store — through the composition root's `checkIndexAtStart`
 * (src/node/compose.ts), which builds its store and catch-up settings from the parsed environment. An index built with another pack or vector layout
 * fails start-up with `IndexMismatchError`, whose message names both packs and the exact
 * `region-search reindex` command that fixes it. An empty store (or none yet) passes.
 *
 * Embedded store only: when `region-search reindex` has COMPLETED a table for this pack, the check
 * switches to it instead of failing — that is the swap of the zero-downtime procedure. Before the
 * pointer moves, it catches up: images indexed (by the server on the old pack) since the re-index
 * finished, or re-uploaded, are re-embedded into the new table and images deleted meanwhile removed
 * from it; then point counts are checked per image and `active-table.json` is written atomically.
 * It runs before the store is opened, so nothing else is writing either table.
 *
 * What a store holds is read from its first point (pack) and its schema or collection config (vector
 * length): one cheap read. Every write path refuses another vector length, and re-index targets refuse
 * another pack, so a store holds one pack.
 */
import path from "node:path";
import { ApiError } from "../../lib/errors.js";
import {
  describeMismatches,
  indexedImages,
  reembedInto,
  reembedWith,
  verifyCounts,
  type Layout,
} from "../../lib/store/reembed.js";
import type { BlobStore, ImageCatalog, RegionExtractor } from "../../lib/services.js";
import {
  qdrantClient,
  qdrantLayout,
  resolveOptions,
  type QdrantStoreOptions,
} from "../../lib/store/qdrant/index.js";
import type { Logger } from "../logging.js";
import { LanceVectorStore } from "../store/lance.js";
import {
  activeTableName,
  packTableName,
  readReindexState,
  writeActiveTable,
  writeReindexState,
  type ReindexState,
} from "../store/lance-tables.js";

/** The index was built with another model pack or vector layout. Thrown at start-up, never mapped to HTTP. */
export class IndexMismatchError extends Error {
  override readonly name = "IndexMismatchError";
}

export interface PackToCheck {
  /** `name@version`. */
  id: string;
  /** Length of a stored vector (`ModelPack.vectorDim`). */
  vectorDim: number;
  /** The pack folder as the entry was given it (MODEL_PACK): the fix command names it. */
  dir: string;
}

export type VectorStoreToCheck =
  | { kind: "embedded"; dataDir: string; /** Default `<dataDir>/vectors`. */ dir?: string }
  | { kind: "qdrant"; options: QdrantStoreOptions; dataDir: string };

/** What the swap at start-up re-embeds with: the catalog and bytes the server uses, and the pack's extractor. */
export interface CatchUpDeps {
  catalog: ImageCatalog & { tenants?(): Promise<string[]> };
  blobs: BlobStore;
  extractor: RegionExtractor;
}

export interface IndexCheckOptions {
  /** Without it a completed re-index is not switched to at start-up (the error names `reindex --switch`). */
  catchUp?: () => CatchUpDeps;
  log?: Pick<Logger, "info" | "warn">;
}

export type IndexCheckResult =
  | { status: "empty" | "current"; where: string }
  | {
      status: "switched";
      where: string;
      from: string;
      to: string;
      caughtUp: number;
      pruned: number;
    };

export async function checkIndex(
  store: VectorStoreToCheck,
  pack: PackToCheck,
  o: IndexCheckOptions = {},
): Promise<IndexCheckResult> {
  return store.kind === "embedded" ? checkEmbedded(store, pack, o) : checkQdrant(store, pack);
}

async function checkEmbedded(
  store: Extract<VectorStoreToCheck, { kind: "embedded" }>,
  pack: PackToCheck,
  o: IndexCheckOptions,
): Promise<IndexCheckResult> {
  const dir = store.dir ?? path.join(store.dataDir, "vectors");
  const active = await activeTableName(dir);
  const held = await LanceVectorStore.inspect(dir, active);
  const where = `the embedded store ${dir} (table "${active}")`;
  if (!held.exists) return { status: "empty", where };
  if (held.dim === pack.vectorDim && (held.pack === pack.id || held.rows === 0))
    return { status: held.rows ? "current" : "empty", where };

  const candidate = packTableName(pack.id);
  const state = candidate === active ? null : await readReindexState(dir, candidate);
  const fix = embeddedFix(store.dataDir, pack.dir);
  if (state?.complete && state.pack === pack.id && o.catchUp)
    return swap(dir, active, candidate, state, pack, fix, o.catchUp(), o.log);
  const progress =
    state?.pack === pack.id
      ? state.complete
        ? `A completed re-index to ${pack.id} is waiting in table "${candidate}"; with the server stopped, switch to it with:\n  ${fix} --switch`
        : `A re-index to ${pack.id} into table "${candidate}" is not finished (${Object.keys(state.ledger).length} images so far); the same command resumes it:\n  ${fix}`
      : `Re-embed every image with this pack (a server on the old pack may keep serving meanwhile), then start again:\n  ${fix}`;
  throw new IndexMismatchError(`${mismatch(where, held, pack)}\n${progress}\nSee docs/reindex.md.`);
}

/** The swap: catch up the completed table with what changed since, check it, point `active-table.json` at it. */
async function swap(
  dir: string,
  from: string,
  to: string,
  state: ReindexState,
  pack: PackToCheck,
  fix: string,
  deps: CatchUpDeps,
  log?: IndexCheckOptions["log"],
): Promise<IndexCheckResult> {
  const target = await LanceVectorStore.open({ dir, table: to });
  try {
    const held = await target.layout();
    if (
      !held.exists ||
      (held.dim !== null && held.dim !== pack.vectorDim) ||
      (held.pack !== null && held.pack !== pack.id)
    ) {
      throw new IndexMismatchError(
        `${mismatch(`table "${to}" of the embedded store ${dir}`, held, pack)}\nIts re-index state says otherwise; move ${to}.reindex.json away and run:\n  ${fix}`,
      );
    }
    const tenants = [
      ...new Set([...state.tenants, ...((await deps.catalog.tenants?.()) ?? [])]),
    ].sort();
    log?.info(
      { event: "index_catch_up", from, to, pack: pack.id, tenants: tenants.length },
      `catching up table "${to}" before switching to it`,
    );
    const counts = () => target.pointCounts();
    const save = (complete: boolean) =>
      writeReindexState(dir, { ...state, tenants, updatedAt: new Date().toISOString(), complete });
    let r;
    try {
      r = await reembedInto(target, {
        pack: pack.id,
        dim: pack.vectorDim,
        images: () => indexedImages(deps.catalog, tenants),
        embed: reembedWith({ blobs: deps.blobs, extractor: deps.extractor }),
        ledger: state.ledger,
        storedCounts: counts,
        maxPasses: 1,
        pruneTenants: tenants,
      });
    } catch (err) {
      await save(true); // what was caught up stays recorded; the table is as complete as before
      throw new Error(
        `catching up table "${to}" before switching to it failed: ${(err as Error).message}. Table "${from}" is still the live one ` +
          `(a server on its pack starts as before); once fixed, start again or run ${fix} --switch`,
        { cause: err },
      );
    }
    const mismatches = await verifyCounts(target, state.ledger, tenants, counts);
    const now = new Date().toISOString();
    await save(mismatches.length === 0);
    if (mismatches.length)
      throw new Error(
        `not switching the embedded store ${dir} to table "${to}": ${describeMismatches(mismatches)}; run ${fix}`,
      );
    await writeActiveTable(dir, { table: to, pack: pack.id, previous: from, switchedAt: now });
    log?.info(
      { event: "index_switched", from, to, pack: pack.id, caughtUp: r.embedded, pruned: r.pruned },
      `switched the embedded store to table "${to}" (${pack.id}); table "${from}" is kept for a rollback`,
    );
    return {
      status: "switched",
      where: `the embedded store ${dir} (table "${to}")`,
      from,
      to,
      caughtUp: r.embedded,
      pruned: r.pruned,
    };
  } finally {
    await target.close();
  }
}

async function checkQdrant(
  store: Extract<VectorStoreToCheck, { kind: "qdrant" }>,
  pack: PackToCheck,
): Promise<IndexCheckResult> {
  const o = resolveOptions(store.options);
  const client = qdrantClient(o);
  const held = await qdrantLayout(client, o.collection, o.retry);
  const behind = await aliasTarget(client, o.collection).catch(() => null);
  const where = `the Qdrant collection "${o.collection}"${behind ? ` (alias of "${behind}")` : ""} at ${o.url}`;
  if (held.dim === null) return { status: "empty", where };
  if (held.dim === pack.vectorDim && (held.pack === null || held.pack === pack.id))
    return { status: held.pack ? "current" : "empty", where };
  const fix = qdrantFix(store, pack.dir);
  throw new IndexMismatchError(
    `${mismatch(where, held, pack)}\n` +
      `Re-embed every image with this pack into a new collection and switch the alias to it (servers on the old pack keep serving meanwhile):\n  ${fix}\n` +
      `${o.apiKey ? "with QDRANT_API_KEY set as for this server. " : ""}See docs/reindex.md.`,
  );
}

async function aliasTarget(
  client: ReturnType<typeof qdrantClient>,
  name: string,
): Promise<string | null> {
  try {
    const { aliases } = await client.getAliases();
    return aliases.find((a) => a.alias_name === name)?.collection_name ?? null;
  } catch (err) {
    if (err instanceof ApiError) return null;
    throw err;
  }
}

function mismatch(where: string, held: Layout, pack: PackToCheck): string {
  const holds =
    held.pack !== null
      ? `points of model pack ${held.pack} (${held.dim}-dimensional vectors)`
      : `no points, but was created for ${held.dim}-dimensional vectors`;
  return (
    `the vector index was built with another model pack: ${where} holds ${holds}, while the model pack ${pack.dir} is ` +
    `${pack.id} (${pack.vectorDim}-dimensional vectors). Vectors of different packs cannot be searched together.`
  );
}

/** The command that re-indexes the embedded store of `dataDir` with the pack in `packDir`. */
export function embeddedFix(dataDir: string, packDir: string): string {
  return `DATA_DIR=${shellWord(dataDir)} region-search reindex --pack ${shellWord(packDir)}`;
}

/** The same for Qdrant: the variables the CLI reads (the API key is never printed: it is read from the environment). */
function qdrantFix(
  store: { options: QdrantStoreOptions; dataDir: string },
  packDir: string,
): string {
  const o = store.options;
  const vars = [
    "VECTOR_STORE=qdrant",
    `QDRANT_URL=${shellWord(o.url)}`,
    `QDRANT_COLLECTION=${shellWord(o.collection)}`,
    `DATA_DIR=${shellWord(store.dataDir)}`,
  ];
  return `${vars.join(" ")} region-search reindex --pack ${shellWord(packDir)}`;
}

/** A word the shell reads back as it is. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
