/**
 * Which LanceDB table of an embedded store is live, and the state of a re-index into another one.
 *
 * An embedded store directory (DATA_DIR/vectors) may hold several tables: `points` (what every
 * store starts with) and one per model pack a re-index built, `points__<pack id, sanitised>`. The
 * small pointer file `active-table.json` in the same directory names the live one; without it the
 * live table is `points`. `LanceVectorStore.open` reads it once, so a running server keeps the table
 * it opened whatever happens to the pointer: the pointer is switched only by `region-search reindex
 * --switch` (server stopped) or by the start-up check of a server on the new pack
 * (src/node/server/index-check.ts), never under a running server.
 *
 * A re-index keeps its state next to its table, `<table>.reindex.json`: the pack it writes, the
 * point count of every image written (the ledger a re-run resumes from) and whether it finished.
 * Every file here is replaced atomically (write, fsync, rename).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Ledger } from "../../lib/store/reembed.js";
import { isNotFound, writeFileAtomic } from "../fs-atomic.js";

const DEFAULT_TABLE = "points";
const ACTIVE_TABLE_FILE = "active-table.json";

const TABLE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

export interface ActiveTable {
  table: string;
  /** The pack its points are of, when the pointer was written. */
  pack?: string;
  /** The table live before this one (a rollback points back at it; it misses what was indexed since). */
  previous?: string;
  switchedAt?: string;
}

export function assertTableName(name: string): string {
  if (!TABLE_NAME.test(name)) throw new Error(`invalid LanceDB table name ${JSON.stringify(name)}`);
  return name;
}

/** `points__<pack>`: the table a re-index to `packId` builds (`shapes-tiny@1.1.0` → `points__shapes-tiny_1_1_0`). */
export function packTableName(packId: string): string {
  const slug = packId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 180);
  return `${DEFAULT_TABLE}__${slug}`;
}

async function readJson<T>(file: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The pointer, or null when the store never switched tables. */
export async function readActiveTable(dir: string): Promise<ActiveTable | null> {
  const file = path.join(dir, ACTIVE_TABLE_FILE);
  const active = await readJson<ActiveTable>(file);
  if (active === null) return null;
  if (typeof active.table !== "string") throw new Error(`${file} names no table`);
  assertTableName(active.table);
  return active;
}

/** The live table's name: the pointer's, or `points`. */
export async function activeTableName(dir: string): Promise<string> {
  return (await readActiveTable(dir))?.table ?? DEFAULT_TABLE;
}

export async function writeActiveTable(dir: string, active: ActiveTable): Promise<void> {
  assertTableName(active.table);
  await writeFileAtomic(path.join(dir, ACTIVE_TABLE_FILE), `${JSON.stringify(active, null, 2)}\n`);
}

/** A re-index into `table`, as far as it got. */
export interface ReindexState {
  table: string;
  pack: string;
  vectorDim: number;
  /** The table live when it began, and that table's pack (null: it was empty). */
  from: { table: string; pack: string | null };
  /** Tenants the last run covered. */
  tenants: string[];
  /** True once a run over every catalog tenant finished and its counts checked out. */
  complete: boolean;
  ledger: Ledger;
  startedAt: string;
  updatedAt: string;
}

export function reindexStateFile(dir: string, table: string): string {
  return path.join(dir, `${assertTableName(table)}.reindex.json`);
}

export async function readReindexState(dir: string, table: string): Promise<ReindexState | null> {
  const file = reindexStateFile(dir, table);
  const state = await readJson<ReindexState>(file);
  if (
    state &&
    (state.table !== table ||
      typeof state.pack !== "string" ||
      typeof state.ledger !== "object" ||
      state.ledger === null)
  ) {
    throw new Error(
      `${file} is not the state of a re-index into table "${table}"; move it away to start over`,
    );
  }
  return state;
}

export async function writeReindexState(dir: string, state: ReindexState): Promise<void> {
  await writeFileAtomic(reindexStateFile(dir, state.table), JSON.stringify(state));
}
