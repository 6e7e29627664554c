/**
 * The embedded VectorStore (docs/architecture.md §2) on LanceDB: a maintained embedded vector database whose
 * table lives in a directory on local disk and survives restarts. One live table — `points`, or the
 * one the directory's `active-table.json` names after a re-index to another model pack
 * (lance-tables.ts, docs/reindex.md) — read once at open; cosine distance; every read and write
 * filtered by tenant in SQL (LanceDB prefilters, so a tenant filter never starves the top-k).
 *
 * A table holds vectors of one length (its schema's). LanceDB itself would pad or cut a vector of
 * another length to fit without a word, so every write and search checks the length first and
 * refuses another one (another model pack's layout) with an error saying so.
 *
 * User metadata lives in columns of its own (lance-metadata.ts), filtered in the same SQL; a table
 * written before they existed gets them (all NULL) when opened.
 *
 * Writes are serialised (one writer at a time: LanceDB commits are optimistic, and one process
 * writing in order keeps "upsert, then delete stale" meaningful). A resolved write is committed.
 *
 * Indexes: below `indexThreshold` rows (default 50 000) search is an exact flat scan — fast enough and
 * exact. Once the table reaches it, an IVF_HNSW_SQ vector index (cosine; partitions chosen by LanceDB)
 * and scalar indexes on tenant / image_id / id (BTree) and kind (bitmap) are built once. Rows written
 * after that are still searched (LanceDB scans the unindexed tail exactly) and are folded into the
 * indexes by `optimize()` after every `optimizeEvery` written rows. Searches on the index re-rank a
 * `refineFactor`× candidate set with exact vectors, so quantisation costs little recall.
 */
import * as lancedb from "@lancedb/lancedb";
import type { Schema } from "apache-arrow";
import type {
  ImageFields,
  ScanOptions,
  SearchFilter,
  SearchHit,
  SearchOptions,
  StoredPoint,
  VectorStore,
} from "../../lib/store/types.js";
import {
  COLUMNS_NO_VECTOR,
  assertPointId,
  filterWhere,
  fromRow,
  idListClause,
  imageClause,
  pointSchema,
  sqlString,
  tenantClause,
  toRow,
  type PointRow,
} from "./lance-rows.js";
import { addMetadataColumns, metadataUpdateSql } from "./lance-metadata.js";
import { ImagePresence } from "./lance-presence.js";
import { activeTableName, assertTableName } from "./lance-tables.js";

export interface LanceStoreOptions {
  /** Directory of the database. */
  dir: string;
  /** Table to use; default: the one `active-table.json` in `dir` names, else `points`. */
  table?: string;
  indexThreshold?: number;
  optimizeEvery?: number;
  /** Write operations (appends, upserts, deletes) between compactions of the table's fragments (default 50). */
  compactEvery?: number;
  /** Candidates re-ranked exactly per requested hit, once a vector index exists. */
  refineFactor?: number;
}

/** groupByImage over-fetch: first fetch `limit × this`, doubling up to `MAX_GROUP_FETCH`. */
const GROUP_OVERFETCH = 4;
const MAX_GROUP_FETCH = 10_000;

export class LanceVectorStore implements VectorStore {
  private table: lancedb.Table | null = null;
  private writes: Promise<unknown> = Promise.resolve();
  private rowsSinceOptimize = 0;
  private writesSinceCompact = 0;
  private approxRows = 0;
  private indexed = false;
  private presence = ImagePresence.empty();
  /** Vector length of the table (its schema's); null until the table exists. */
  private dim: number | null = null;

  private constructor(
    private readonly db: lancedb.Connection,
    private readonly opts: Required<LanceStoreOptions>,
  ) {}

  static async open(options: LanceStoreOptions): Promise<LanceVectorStore> {
    const table = assertTableName(options.table ?? (await activeTableName(options.dir)));
    const opts = {
      indexThreshold: 50_000,
      optimizeEvery: 20_000,
      compactEvery: 50,
      refineFactor: 4,
      ...options,
      table,
    };
    const store = new LanceVectorStore(await lancedb.connect(opts.dir), opts);
    if ((await store.db.tableNames()).includes(opts.table)) {
      store.table = await store.db.openTable(opts.table);
      await addMetadataColumns(store.table);
      store.dim = vectorDimension(await store.table.schema());
      store.indexed = (await store.table.listIndices()).some((i) => i.columns.includes("vector"));
      store.approxRows = await store.table.countRows();
      const presence = new ImagePresence();
      store.presence = presence;
      // In the write queue, not awaited: opening stays fast, and the first write waits for it.
      void store.write(() => presence.load(store.table!)).catch(() => undefined); // unloaded = always two commits
    }
    return store;
  }

  /** The table this store reads and writes. */
  get tableName(): string {
    return this.opts.table;
  }

  async upsert(tenant: string, points: StoredPoint[]): Promise<void> {
    if (points.length === 0) return;
    assertOwnPoints(tenant, points);
    this.checkDimension(points);
    return this.write(() => this.mergePoints(tenant, points));
  }

  /**
   * The first write of an image (no row of it exists, see ImagePresence) is one append. Otherwise two
   * commits, upsert then delete of the image's other ids: LanceDB can do both in one merge-insert
   * (`whenNotMatchedBySourceDelete`), but that scans the whole table, measured 112 ms against
   * 37 ms for the pair at 108k rows (docs/ingest-overhead.md). A crash in between leaves old + new.
   */
  async replaceImage(tenant: string, imageId: string, points: StoredPoint[]): Promise<void> {
    if (points.some((p) => p.payload.imageId !== imageId))
      throw new Error("a point of another image was passed to replaceImage");
    assertOwnPoints(tenant, points);
    this.checkDimension(points);
    return this.write(async () => {
      if (points.length > 0 && this.presence.hasNoRows(tenant, imageId)) {
        this.presence.markPresent(tenant, imageId);
        const table = await this.tableFor(points[0]!.vector.length);
        await table.add(points.map(toRow));
        await this.maintain(table, points.length);
        return;
      }
      if (points.length > 0) await this.mergePoints(tenant, points);
      await this.deleteRows(
        tenant,
        imageId,
        points.map((p) => p.id),
      );
    });
  }

  async deleteImage(
    tenant: string,
    imageId: string,
    keepIds: readonly string[] = [],
  ): Promise<void> {
    return this.write(() => this.deleteRows(tenant, imageId, keepIds));
  }

  async search(tenant: string, vector: Float32Array, options: SearchOptions): Promise<SearchHit[]> {
    const where = filterWhere(tenant, options.filter);
    if (!this.table || where === null || options.limit < 1) return [];
    this.checkLength(vector.length, "a query vector");
    if (!options.groupByImage) return this.nearest(vector, where, options.limit, options.exact);
    // Over-fetch, keep each image's best hit, fetch more while groups are missing and rows remain.
    for (let fetch = options.limit * GROUP_OVERFETCH; ; fetch *= 2) {
      const hits = await this.nearest(
        vector,
        where,
        Math.min(fetch, MAX_GROUP_FETCH),
        options.exact,
      );
      const best = bestPerImage(hits).slice(0, options.limit);
      if (best.length >= options.limit || hits.length < fetch || fetch >= MAX_GROUP_FETCH)
        return best;
    }
  }

  async get(tenant: string, id: string, withVector = false): Promise<StoredPoint | null> {
    if (!this.table) return null;
    const rows = await this.select(
      `${tenantClause(tenant)} AND id = ${sqlString(assertPointId(id))}`,
      withVector,
      1,
    );
    return rows[0] ?? null;
  }

  async listImage(tenant: string, imageId: string, withVector = false): Promise<StoredPoint[]> {
    if (!this.table) return [];
    const rows = await this.select(
      `${tenantClause(tenant)} AND ${imageClause(imageId)}`,
      withVector,
    );
    return rows.sort((a, b) => a.payload.regionIndex - b.payload.regionIndex);
  }

  async count(tenant: string, filter?: SearchFilter): Promise<number> {
    const where = filterWhere(tenant, filter);
    if (!this.table || where === null) return 0;
    return this.table.countRows(where);
  }

  /** One `update` of the image's rows (LanceDB rewrites them; vectors are copied, not recomputed). */
  async setImageFields(tenant: string, imageId: string, fields: ImageFields): Promise<void> {
    const valuesSql = metadataUpdateSql(fields);
    return this.write(async () => {
      if (!this.table) return;
      await this.table.update({
        where: `${tenantClause(tenant)} AND ${imageClause(imageId)}`,
        valuesSql,
      });
      await this.compactNowAndThen(this.table);
    });
  }

  /** Ordered by `id` and bounded below by the cursor: with the BTree index on `id` a page is a range read. */
  async scan(tenant: string, options: ScanOptions): Promise<StoredPoint[]> {
    if (!this.table || options.limit < 1) return [];
    let where = tenantClause(tenant);
    if (options.after !== undefined)
      where += ` AND id > ${sqlString(assertPointId(options.after))}`;
    const rows = await this.table
      .query()
      .where(where)
      .orderBy({ columnName: "id", ascending: true, nullsFirst: false })
      .limit(options.limit)
      .toArray();
    return (rows as PointRow[]).map(fromRow);
  }

  /**
   * What the table holds, for the re-index and the start-up check: its vector length (schema) and
   * the model pack of its first row (null when empty). A table is written by one pack — every write
   * checks the length, and re-index targets check the pack — so the first row tells.
   */
  async layout(): Promise<TableLayout> {
    return tableLayout(this.opts.table, this.table);
  }

  /** `layout()` of a table without opening a store on it (no presence load): cheap enough for every start-up. */
  static async inspect(dir: string, table: string): Promise<TableLayout> {
    const db = await lancedb.connect(dir);
    try {
      const open = (await db.tableNames()).includes(table) ? await db.openTable(table) : null;
      try {
        return await tableLayout(table, open);
      } finally {
        open?.close();
      }
    } finally {
      db.close();
    }
  }

  /** Rows per image, keyed `tenant/imageId`: one read of two columns (~0.1 s per 100 000 rows). */
  async pointCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (!this.table) return counts;
    const columns = await this.table.query().select(["tenant", "image_id"]).toArrow();
    for (const batch of columns.batches) {
      const tenants = batch.getChild("tenant")!,
        images = batch.getChild("image_id")!;
      for (let i = 0; i < batch.numRows; i++) {
        const key = `${String(tenants.get(i))}/${String(images.get(i))}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** Whether the ANN index exists (tests, benchmarks, health output). */
  get hasVectorIndex(): boolean {
    return this.indexed;
  }

  /** Build the indexes now, whatever the table size (benchmarks; tests of the indexed path). */
  buildIndexes(): Promise<void> {
    return this.write(async () => {
      if (this.table) await this.createIndexes(this.table);
    });
  }

  async close(): Promise<void> {
    await this.writes.catch(() => undefined);
    this.table?.close();
    this.table = null;
    this.db.close();
  }

  private async nearest(
    vector: Float32Array,
    where: string,
    limit: number,
    exact = false,
  ): Promise<SearchHit[]> {
    let query = this.table!.vectorSearch(Array.from(vector))
      .distanceType("cosine")
      .where(where)
      .limit(limit);
    if (exact) query = query.bypassVectorIndex();
    else if (this.indexed) query = query.refineFactor(this.opts.refineFactor);
    const rows = (await query.toArray()) as PointRow[];
    return rows.map((row) => {
      const { vector: _v, ...rest } = row;
      const point = fromRow(rest);
      // LanceDB's cosine distance is 1 − cos θ; clamp float32 round-off (1.0000001) into [-1, 1].
      const score = Math.max(-1, Math.min(1, 1 - (row._distance ?? 1)));
      return { id: point.id, score, payload: point.payload };
    });
  }

  private async select(where: string, withVector: boolean, limit?: number): Promise<StoredPoint[]> {
    let query = this.table!.query().where(where);
    if (!withVector) query = query.select(COLUMNS_NO_VECTOR);
    if (limit !== undefined) query = query.limit(limit);
    return ((await query.toArray()) as PointRow[]).map(fromRow);
  }

  /** In the write queue. Keyed on (tenant, id): even a colliding id can never overwrite another tenant's point. */
  private async mergePoints(tenant: string, points: StoredPoint[]): Promise<void> {
    for (const p of points) this.presence.markPresent(tenant, p.payload.imageId);
    const table = await this.tableFor(points[0]!.vector.length);
    await table
      .mergeInsert(["tenant", "id"])
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .execute(points.map(toRow));
    await this.maintain(table, points.length);
  }

  /** In the write queue: the image's rows but `keepIds`. */
  private async deleteRows(
    tenant: string,
    imageId: string,
    keepIds: readonly string[],
  ): Promise<void> {
    if (!this.table) return;
    const where = [tenantClause(tenant), imageClause(imageId)];
    if (keepIds.length > 0) where.push(`NOT (${idListClause("id", keepIds)})`);
    await this.table.delete(where.join(" AND "));
    if (keepIds.length === 0) this.presence.markAbsent(tenant, imageId);
    await this.compactNowAndThen(this.table);
  }

  /** Runs `fn` after every earlier write; a failed write does not block later ones. */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writes.then(fn, fn);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private async tableFor(dim: number): Promise<lancedb.Table> {
    if (!this.table) {
      this.table = await this.db.createEmptyTable(this.opts.table, pointSchema(dim), {
        mode: "create",
        existOk: true,
      });
      // existOk: a table another process created meanwhile is opened as it is; its schema decides.
      this.dim = vectorDimension(await this.table.schema());
    }
    this.checkLength(dim, "a point's vector");
    return this.table;
  }

  /** Every point's vector must be as long as the first one, and as the table's (when it exists). */
  private checkDimension(points: readonly StoredPoint[]): void {
    const first = points[0]?.vector.length;
    if (first === undefined) return;
    for (const p of points) {
      if (p.vector.length !== first)
        throw new Error(
          `points of one write have vectors of ${first} and ${p.vector.length} dimensions`,
        );
    }
    this.checkLength(first, "a point's vector");
  }

  private checkLength(length: number, what: string): void {
    if (this.dim === null || length === this.dim) return;
    throw new Error(
      `${what} has ${length} dimensions but the embedded store's table "${this.opts.table}" holds ${this.dim}-dimensional vectors: ` +
        `it was built with another model pack layout; refusing to mix them (re-index with \`region-search reindex\`, docs/reindex.md)`,
    );
  }

  /** Build the indexes once the table is large; afterwards fold new rows in now and then. */
  private async maintain(table: lancedb.Table, written: number): Promise<void> {
    this.rowsSinceOptimize += written;
    await this.compactNowAndThen(table);
    if (!this.indexed) {
      // An upper bound (upserts may replace rows); recounted exactly before deciding.
      this.approxRows += written;
      if (this.approxRows < this.opts.indexThreshold) return;
      this.approxRows = await table.countRows();
      if (this.approxRows >= this.opts.indexThreshold) await this.createIndexes(table);
    } else if (this.rowsSinceOptimize >= this.opts.optimizeEvery) {
      this.rowsSinceOptimize = 0;
      await table.optimize();
    }
  }

  /**
   * Every write adds a fragment and a table version; ingesting image by image leaves thousands of
   * tiny fragments, and a flat scan over them was measured 10× slower (213 ms vs 17 ms p50 at 10k
   * rows). Compact after every `compactEvery` write operations: 50 images' first ingests (one append
   * each), or 25 re-ingests (upsert + delete). On an 800-row table of appends, search took 25.0 ms
   * p50 compacting every 100 writes (60 fragments left) against 9.0 ms every 50 (docs/ingest-overhead.md).
   */
  private async compactNowAndThen(table: lancedb.Table): Promise<void> {
    if (++this.writesSinceCompact < this.opts.compactEvery) return;
    this.writesSinceCompact = 0;
    await table.optimize();
  }

  private async createIndexes(table: lancedb.Table): Promise<void> {
    await table.createIndex("vector", {
      config: lancedb.Index.hnswSq({ distanceType: "cosine" }),
      replace: true,
    });
    for (const column of ["tenant", "image_id", "id"]) {
      await table.createIndex(column, { config: lancedb.Index.btree(), replace: true });
    }
    await table.createIndex("kind", { config: lancedb.Index.bitmap(), replace: true });
    this.indexed = true;
  }
}

/** What a table holds (`LanceVectorStore.layout`). */
export interface TableLayout {
  table: string;
  exists: boolean;
  rows: number;
  /** Vector length of its schema; null when the table does not exist. */
  dim: number | null;
  /** Model pack of its first row; null when empty. */
  pack: string | null;
}

async function tableLayout(name: string, table: lancedb.Table | null): Promise<TableLayout> {
  if (!table) return { table: name, exists: false, rows: 0, dim: null, pack: null };
  const dim = vectorDimension(await table.schema());
  const rows = await table.countRows();
  const [first] = (await table.query().select(["payload"]).limit(1).toArray()) as Pick<
    PointRow,
    "payload"
  >[];
  const pack = first ? (JSON.parse(first.payload) as { pack?: unknown }).pack : null;
  return {
    table: name,
    exists: true,
    rows,
    dim,
    pack: pack === null || pack === undefined ? null : String(pack),
  };
}

/** The length of the `vector` column's fixed-size lists. */
function vectorDimension(schema: Schema): number | null {
  const type = schema.fields.find((f) => f.name === "vector")?.type as
    { listSize?: unknown } | undefined;
  return typeof type?.listSize === "number" ? type.listSize : null;
}

function assertOwnPoints(tenant: string, points: readonly StoredPoint[]): void {
  for (const p of points) {
    assertPointId(p.id);
    if (p.payload.tenant !== tenant)
      throw new Error("point tenant does not match the caller's tenant");
  }
}

function bestPerImage(hits: SearchHit[]): SearchHit[] {
  const seen = new Set<string>();
  return hits.filter((h) => !seen.has(h.payload.imageId) && (seen.add(h.payload.imageId), true));
}
