/**
 * `VectorStore` on Qdrant (docs/architecture.md §2). Runs wherever `fetch` does (Workers and Node): the REST
 * client picks its browser build on Workers and its undici build on Node.
 *
 * Every request's filter comes from `tenantFilter` (filter.ts), reads included: `get` is a filtered
 * scroll (`has_id` + tenant) rather than a retrieve-by-id, because retrieve cannot carry a filter.
 */
import { QdrantClient, type Schemas } from "@qdrant/js-client-rest";
import { ApiError } from "../../errors.js";
import { isPointId, pointId } from "../ids.js";
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
import { chunkPoints } from "./batches.js";
import { callStore, checkApplied } from "./errors.js";
import { imageCondition, searchConditions, tenantFilter } from "./filter.js";
import { deletedMidQuery, nextOffset, toHit } from "./hits.js";
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

  /**
   * Runs a call (all idempotent here, hence retried on transient failures) within ONE deadline of
   * `timeoutMs` for all its attempts; `op` gets the Qdrant `timeout` (seconds) to send, below what is left.
   */
  private call<T>(op: (timeout?: number) => Promise<T>): Promise<T> {
    return callStore(op, true, this.options.retry, this.options.timeoutMs);
  }

  private checkVector(v: Float32Array): number[] {
    if (v.length !== this.options.dim)
      throw ApiError.invalid(
        `vector has ${v.length} dimensions, the collection needs ${this.options.dim}`,
      );
    return Array.from(v);
  }

  /**
   * Upserts in batches (by count and bytes, batches.ts) with `wait=true`, so a resolved call is
   * durable on the write-consistency quorum. Plain upserts, no `update_filter`: every id is checked
   * to be the UUIDv5 of its own tenant, image, region and pack (`checkPoints`), so no id of one
   * tenant can name a point of another, and a filter would only send the write down Qdrant's slow
   * path (a filter-carrying update fences the shard's update queue and drains it first: qdrant
   * lib/collection/src/shards/local_shard/resolve_submit.rs, lib/shard/src/resolve.rs). Re-sending
   * a batch is harmless (deterministic ids), hence retried.
   */
  async upsert(tenant: string, points: StoredPoint[]): Promise<void> {
    this.checkPoints(tenant, points);
    for (const batch of chunkPoints(points.map(toPointStruct), this.options.batchSize)) {
      await this.call((timeout) =>
        this.client
          .upsert(this.name, {
            wait: true,
            ordering: this.options.writeOrdering,
            timeout,
            points: batch,
          })
          .then(checkApplied),
      );
    }
  }

  /**
   * The image's point ids now stored (a read: no update lock), then `batch_update` requests
   * (`wait=true`): the new points as plain upserts, cut under the size cap, and in the last request
   * a delete BY ID of the old points outside the new set. Nothing goes by filter (see `upsert`).
   * Qdrant applies the operations in order, not as one transaction, so a failure in between leaves
   * old + new, which a retry of the whole call (idempotent) repairs. A point another writer adds to
   * this image between the read and the delete survives it; deleteImage (by filter) removes all.
   */
  async replaceImage(tenant: string, imageId: string, points: StoredPoint[]): Promise<void> {
    this.checkPoints(tenant, points);
    if (points.some((p) => p.payload.imageId !== imageId))
      throw ApiError.invalid("a point of another image was passed to replaceImage");
    const keep = new Set(points.map((p) => p.id));
    const stale = (await this.imageIds(tenant, imageId)).filter((id) => !keep.has(id));
    const operations: Schemas["UpdateOperation"][][] = chunkPoints(
      points.map(toPointStruct),
      this.options.batchSize,
    ).map((batch) => [{ upsert: { points: batch } }]);
    if (stale.length) {
      if (!operations.length) operations.push([]);
      operations.at(-1)!.push({ delete: { points: stale } });
    }
    for (const ops of operations) {
      await this.call((timeout) =>
        this.client
          .batchUpdate(this.name, {
            wait: true,
            ordering: this.options.writeOrdering,
            timeout,
            operations: ops,
          })
          .then(checkApplied),
      );
    }
  }

  /** Ids of the image's stored points (no payload, no vector). */
  private async imageIds(tenant: string, imageId: string): Promise<string[]> {
    const filter = tenantFilter(tenant, [imageCondition(imageId)]);
    const out: string[] = [];
    let offset: Schemas["ExtendedPointId"] | undefined;
    do {
      const page = await this.call((timeout) =>
        this.client.scroll(this.name, {
          filter,
          limit: SCROLL_PAGE,
          offset,
          with_payload: false,
          with_vector: false,
          consistency: this.options.readConsistency,
          timeout,
        }),
      );
      out.push(...page.points.map((p) => String(p.id)));
      offset = nextOffset(page.next_page_offset);
    } while (offset !== undefined);
    return out;
  }

  private checkPoints(tenant: string, points: readonly StoredPoint[]): void {
    for (const p of points) {
      if (p.payload.tenant !== tenant)
        throw ApiError.invalid(`point ${p.id} belongs to another tenant`);
      // The id must name this very point: what makes plain upserts safe across tenants (see `upsert`).
      const { imageId, regionIndex, pack } = p.payload;
      if (p.id !== pointId(tenant, imageId, regionIndex, pack))
        throw ApiError.invalid(
          `point id ${JSON.stringify(p.id)} is not the id of ${tenant}/${imageId} region ${regionIndex}`,
        );
      this.checkVector(p.vector);
    }
  }

  /**
   * Deletes by filter (tenant + image, minus `keepIds`) with `wait=true`; deleting twice is a no-op,
   * hence retried. By filter on purpose, though Qdrant resolves it under the shard's update fence:
   * it also removes points another writer added a moment ago, which a delete by listed ids would
   * miss, and an image is deleted far less often than written.
   */
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
    await this.call((timeout) =>
      this.client
        .delete(this.name, { wait: true, ordering: this.options.writeOrdering, timeout, filter })
        .then(checkApplied),
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
      const res = await this.call((timeout) =>
        this.client.query(this.name, { ...common, timeout }),
      );
      return res.points.map(toHit);
    }
    // One group per image, its best region only: Qdrant groups after ranking, so a dominant image cannot crowd others out.
    const res = await this.call((timeout) =>
      this.client.queryGroups(this.name, {
        ...common,
        timeout,
        group_by: "image_id",
        group_size: 1,
      }),
    );
    return res.groups
      .flatMap((g) => g.hits.slice(0, 1))
      .filter((p) => !deletedMidQuery(p))
      .map(toHit);
  }

  /** Rescoring on the float32 originals keeps quantised scores exact for the hits we return. */
  private searchParams(): Schemas["SearchParams"] | undefined {
    if (!this.options.quantization) return undefined;
    return { quantization: { rescore: true, oversampling: this.options.oversampling } };
  }

  async get(tenant: string, id: string, withVector = false): Promise<StoredPoint | null> {
    const filter = tenantFilter(tenant, [{ has_id: [id] }]);
    if (!isPointId(id)) return null;
    const res = await this.call((timeout) =>
      this.client.scroll(this.name, {
        filter,
        timeout,
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
      const page = await this.call((timeout) =>
        this.client.scroll(this.name, {
          filter,
          timeout,
          limit: SCROLL_PAGE,
          offset,
          with_payload: true,
          with_vector: withVector ? [VECTOR_NAME] : false,
          consistency: this.options.readConsistency,
        }),
      );
      out.push(...page.points.map(fromRecord));
      offset = nextOffset(page.next_page_offset);
    } while (offset !== undefined);
    return out.sort((a, b) => a.payload.regionIndex - b.payload.regionIndex);
  }

  async count(tenant: string, filter?: SearchFilter): Promise<number> {
    const conditions = searchConditions(filter);
    const scoped = tenantFilter(tenant, conditions ?? []);
    if (conditions === null) return 0;
    // Through the raw API: the client's count() drops `consistency` (qdrant-js 1.18).
    const res = await this.call((timeout) =>
      this.client.api().countPoints({
        collection_name: this.name,
        consistency: this.options.readConsistency,
        timeout,
        filter: scoped,
        exact: true,
      }),
    );
    return res.data.result!.count;
  }

  /** One `set_payload` over the image's points (tenant + image filter), `wait=true`; idempotent, hence retried. */
  async setImageFields(tenant: string, imageId: string, fields: ImageFields): Promise<void> {
    const filter = tenantFilter(tenant, [imageCondition(imageId)]);
    await this.call((timeout) =>
      this.client
        .setPayload(this.name, {
          wait: true,
          ordering: this.options.writeOrdering,
          timeout,
          payload: imageFieldsPayload(fields),
          filter,
        })
        .then(checkApplied),
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
    const res = await this.call((timeout) =>
      this.client.scroll(this.name, {
        filter,
        timeout,
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
