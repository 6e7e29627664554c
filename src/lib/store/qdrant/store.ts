/**
 * `VectorStore` on Qdrant (docs/architecture.md §2). Runs wherever `fetch` does (Workers and Node): the REST
 * client picks its browser build on Workers and its undici build on Node.
 *
 * Every request's filter comes from `tenantFilter` (filter.ts), reads included: `get` is a filtered
 * scroll (`has_id` + tenant) rather than a retrieve-by-id, because retrieve cannot carry a filter.
 */
import { QdrantClient, type Schemas } from "@qdrant/js-client-rest";
import { ApiError } from "../../errors.js";
import { isPointId } from "../ids.js";
import type {
  ImageFields,
  ScanOptions,
  SearchFilter,
  SearchHit,
  SearchOptions,
  StoredPoint,
  VectorStore,
} from "../types.js";
import { bootstrapCollection, type BootstrapReport } from "./bootstrap.js";
import {
  resolveOptions,
  VECTOR_NAME,
  type QdrantStoreOptions,
  type ResolvedOptions,
} from "./config.js";
import { callStore } from "./errors.js";
import { imageCondition, searchConditions, tenantFilter } from "./filter.js";
import { imageFieldsPayload } from "./metadata.js";
import { fromRecord, toPointStruct } from "./payload.js";

/** Page size when listing an image's points (an image has at most a few hundred regions). */
const SCROLL_PAGE = 256;

export class QdrantVectorStore implements VectorStore {
  /** What start-up found or did; set by `createQdrantStore`. */
  bootstrap?: BootstrapReport;

  constructor(
    readonly client: QdrantClient,
    readonly options: ResolvedOptions,
  ) {}

  private get name(): string {
    return this.options.collection;
  }

  /** Runs a call: idempotent ones (all but collection/alias changes) are retried on transient failures. */
  private call<T>(op: () => Promise<T>): Promise<T> {
    return callStore(op, true, this.options.retry);
  }

  private checkVector(v: Float32Array): number[] {
    if (v.length !== this.options.dim)
      throw ApiError.invalid(
        `vector has ${v.length} dimensions, the collection needs ${this.options.dim}`,
      );
    return Array.from(v);
  }

  /**
   * Upserts in batches with `wait=true`, so a resolved call is durable on the write-consistency
   * quorum. `update_filter` keeps the tenant condition on writes too: an id that already exists under
   * another tenant is left untouched instead of being overwritten. Re-sending a batch is harmless
   * (deterministic ids), hence retried.
   */
  async upsert(tenant: string, points: StoredPoint[]): Promise<void> {
    const filter = tenantFilter(tenant);
    this.checkPoints(tenant, points);
    for (let i = 0; i < points.length; i += this.options.batchSize) {
      const batch = points.slice(i, i + this.options.batchSize).map(toPointStruct);
      await this.call(() =>
        this.client.upsert(this.name, {
          wait: true,
          ordering: this.options.writeOrdering,
          points: batch,
          update_filter: filter,
        }),
      );
    }
  }

  /**
   * One `batch_update` request (`wait=true`): the upserts (tenant-guarded as in `upsert`), then a
   * delete of the image's points outside the new id set. Qdrant applies the operations in order
   * (not as one transaction), so a failure in between leaves old + new, which a retry of the whole
   * request (idempotent) repairs.
   */
  async replaceImage(tenant: string, imageId: string, points: StoredPoint[]): Promise<void> {
    this.checkPoints(tenant, points);
    if (points.some((p) => p.payload.imageId !== imageId))
      throw ApiError.invalid("a point of another image was passed to replaceImage");
    const update_filter = tenantFilter(tenant);
    const operations: Schemas["UpdateOperation"][] = [];
    for (let i = 0; i < points.length; i += this.options.batchSize) {
      operations.push({
        upsert: {
          points: points.slice(i, i + this.options.batchSize).map(toPointStruct),
          update_filter,
        },
      });
    }
    const keep = points.length ? [{ has_id: points.map((p) => p.id) }] : [];
    operations.push({ delete: { filter: tenantFilter(tenant, [imageCondition(imageId)], keep) } });
    await this.call(() =>
      this.client.batchUpdate(this.name, {
        wait: true,
        ordering: this.options.writeOrdering,
        operations,
      }),
    );
  }

  private checkPoints(tenant: string, points: readonly StoredPoint[]): void {
    for (const p of points) {
      if (p.payload.tenant !== tenant)
        throw ApiError.invalid(`point ${p.id} belongs to another tenant`);
      if (!isPointId(p.id))
        throw ApiError.invalid(`point id ${JSON.stringify(p.id)} is not a UUID`);
      this.checkVector(p.vector);
    }
  }

  /** Deletes by filter (tenant + image, minus `keepIds`) with `wait=true`; deleting twice is a no-op, hence retried. */
  async deleteImage(
    tenant: string,
    imageId: string,
    keepIds: readonly string[] = [],
  ): Promise<void> {
    // An id that is not a UUID cannot be stored, so it cannot need keeping.
    const keep = [...new Set(keepIds.filter(isPointId))];
    const filter = tenantFilter(
      tenant,
      [imageCondition(imageId)],
      keep.length ? [{ has_id: keep }] : [],
    );
    await this.call(() =>
      this.client.delete(this.name, { wait: true, ordering: this.options.writeOrdering, filter }),
    );
  }

  async search(tenant: string, vector: Float32Array, options: SearchOptions): Promise<SearchHit[]> {
    const conditions = searchConditions(options.filter);
    const filter = tenantFilter(tenant, conditions ?? []);
    const query = this.checkVector(vector);
    if (conditions === null || options.limit < 1) return [];
    const common = {
      query,
      using: VECTOR_NAME,
      filter,
      limit: options.limit,
      with_payload: true,
      params: this.searchParams(),
      consistency: this.options.readConsistency,
    };
    if (!options.groupByImage) {
      const res = await this.call(() => this.client.query(this.name, common));
      return res.points.map(toHit);
    }
    // One group per image, its best region only: Qdrant groups after ranking, so a dominant image cannot crowd others out.
    const res = await this.call(() =>
      this.client.queryGroups(this.name, { ...common, group_by: "image_id", group_size: 1 }),
    );
    return res.groups.flatMap((g) => g.hits.slice(0, 1)).map(toHit);
  }

  /** Rescoring on the float32 originals keeps quantised scores exact for the hits we return. */
  private searchParams(): Schemas["SearchParams"] | undefined {
    if (!this.options.quantization) return undefined;
    return { quantization: { rescore: true, oversampling: this.options.oversampling } };
  }

  async get(tenant: string, id: string, withVector = false): Promise<StoredPoint | null> {
    const filter = tenantFilter(tenant, [{ has_id: [id] }]);
    if (!isPointId(id)) return null;
    const res = await this.call(() =>
      this.client.scroll(this.name, {
        filter,
        limit: 1,
        with_payload: true,
        with_vector: withVector ? [VECTOR_NAME] : false,
        consistency: this.options.readConsistency,
      }),
    );
    const first = res.points[0];
    return first ? fromRecord(first) : null;
  }

  async listImage(tenant: string, imageId: string, withVector = false): Promise<StoredPoint[]> {
    const filter = tenantFilter(tenant, [imageCondition(imageId)]);
    const out: StoredPoint[] = [];
    let offset: Schemas["ExtendedPointId"] | undefined;
    do {
      const page = await this.call(() =>
        this.client.scroll(this.name, {
          filter,
          limit: SCROLL_PAGE,
          offset,
          with_payload: true,
          with_vector: withVector ? [VECTOR_NAME] : false,
          consistency: this.options.readConsistency,
        }),
      );
      out.push(...page.points.map(fromRecord));
      // Point ids are UUIDs or integers; anything else ends the scroll rather than looping on it.
      const next = page.next_page_offset;
      offset = typeof next === "string" || typeof next === "number" ? next : undefined;
    } while (offset !== undefined);
    return out.sort((a, b) => a.payload.regionIndex - b.payload.regionIndex);
  }

  async count(tenant: string, filter?: SearchFilter): Promise<number> {
    const conditions = searchConditions(filter);
    const scoped = tenantFilter(tenant, conditions ?? []);
    if (conditions === null) return 0;
    const res = await this.call(() =>
      this.client.count(this.name, { filter: scoped, exact: true }),
    );
    return res.count;
  }

  /** One `set_payload` over the image's points (tenant + image filter), `wait=true`; idempotent, hence retried. */
  async setImageFields(tenant: string, imageId: string, fields: ImageFields): Promise<void> {
    const filter = tenantFilter(tenant, [imageCondition(imageId)]);
    await this.call(() =>
      this.client.setPayload(this.name, {
        wait: true,
        ordering: this.options.writeOrdering,
        payload: imageFieldsPayload(fields),
        filter,
      }),
    );
  }

  /**
   * Scroll pages come in id order and `offset` is inclusive, so the page starts at the cursor and
   * asks for one point more: the cursor itself (if it still exists) is dropped, never returned twice.
   */
  async scan(tenant: string, options: ScanOptions): Promise<StoredPoint[]> {
    const filter = tenantFilter(tenant);
    if (options.after !== undefined && !isPointId(options.after))
      throw ApiError.invalid(`scan cursor ${JSON.stringify(options.after)} is not a point id`);
    if (options.limit < 1) return [];
    const res = await this.call(() =>
      this.client.scroll(this.name, {
        filter,
        offset: options.after,
        limit: options.limit + 1,
        with_payload: true,
        with_vector: [VECTOR_NAME],
        consistency: this.options.readConsistency,
      }),
    );
    const after = options.after?.toLowerCase();
    return res.points
      .map(fromRecord)
      .filter((p) => after === undefined || p.id > after)
      .slice(0, options.limit);
  }

  /** Nothing to release: the client holds no connection we own (undici pools idle sockets itself). */
  async close(): Promise<void> {}
}

function toHit(p: Schemas["ScoredPoint"]): SearchHit {
  const { id, payload } = fromRecord(p);
  return { id, score: p.score, payload };
}

/**
 * Builds the store and bootstraps its collection. Throws `CollectionMismatchError` when an existing
 * collection cannot hold this pack's vectors, and a 5xx `ApiError` when Qdrant cannot be reached.
 */
export async function createQdrantStore(options: QdrantStoreOptions): Promise<QdrantVectorStore> {
  const o = resolveOptions(options);
  const store = new QdrantVectorStore(qdrantClient(o), o);
  store.bootstrap = await bootstrapCollection(store.client, o);
  return store;
}

/** The REST client for these options (also used by the collection and alias tools, reindex.ts). */
export function qdrantClient(
  o: Pick<QdrantStoreOptions, "url" | "apiKey" | "timeoutMs">,
): QdrantClient {
  return new QdrantClient({
    url: o.url,
    // The client puts :6333 on a URL without a port; null makes the URL mean what it says (443 behind a proxy).
    port: new URL(o.url).port ? undefined : null,
    apiKey: o.apiKey,
    timeout: o.timeoutMs ?? 10_000,
    // Our own bootstrap asks for the version; the client's background check would only log.
    checkCompatibility: false,
  });
}
