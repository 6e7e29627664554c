import type { BoxXywh, CocoRle } from "../masks/types.js";

/** A point is one region of an image, or the image as a whole (alpha = 1 everywhere). */
export type PointKind = "region" | "image";

/** What a stored point carries besides its vector (docs/architecture.md §2). */
export interface PointPayload {
  tenant: string;
  imageId: string;
  kind: PointKind;
  /** Index of the region within its image; -1 for the whole-image point. */
  regionIndex: number;
  /** `[x, y, w, h]` in original image pixels. */
  bbox: BoxXywh;
  /** Mask area in original pixels. */
  area: number;
  predictedIou: number;
  stability: number;
  /** Region mask at original resolution; `null` for the whole-image point. */
  mask: CocoRle | null;
  /** Model pack as `name@version`; vectors of different packs are not comparable. */
  pack: string;
  imageWidth: number;
  imageHeight: number;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** The image's display name (its file name by default), copied from its record. */
  name?: string;
  /** The image's user metadata, copied from its record into every point (docs/search.md#metadata). */
  metadata?: Metadata;
}

/** One metadata value: a string, a finite number, a boolean, or an array of strings. */
export type MetadataValue = string | number | boolean | string[];

/** User metadata: a flat object of keys as the user wrote them (limits: src/lib/metadata/schema.ts). */
export type Metadata = Record<string, MetadataValue>;

/**
 * A metadata filter in Qdrant's own syntax (docs/search.md#filters): `must` (all), `should` (at least
 * one, when given), `must_not` (none). Keys name metadata fields as the user wrote them.
 */
export interface MetadataFilter {
  must?: MetadataCondition[];
  should?: MetadataCondition[];
  must_not?: MetadataCondition[];
}

/** Range bounds: all numbers, or all RFC 3339 date-times (Qdrant's `DatetimeRange`). */
export interface RangeBounds<T extends number | string = number | string> {
  gt?: T;
  gte?: T;
  lt?: T;
  lte?: T;
}

export type MetadataCondition =
  | { key: string; match: { value: string | number | boolean } }
  | { key: string; match: { any: string[] | number[] } }
  | { key: string; range: RangeBounds }
  | { is_empty: { key: string } }
  | { is_null: { key: string } }
  | MetadataFilter;

/** What `VectorStore.setImageFields` writes into every point of an image. */
export interface ImageFields {
  name?: string;
  metadata: Metadata;
}

export interface StoredPoint {
  /** Deterministic UUIDv5 of (tenant, imageId, regionIndex, pack). */
  id: string;
  /** L2-normalised embedding. */
  vector: Float32Array;
  payload: PointPayload;
}

export interface SearchFilter {
  imageIds?: string[];
  kind?: PointKind;
  /** Only regions whose area is at least this many pixels. */
  minArea?: number;
  /** Only points whose image metadata matches (validated: src/lib/metadata/filter-schema.ts). */
  metadata?: MetadataFilter;
}

export interface SearchOptions {
  limit: number;
  filter?: SearchFilter;
  /** One hit per image (its best region). */
  groupByImage?: boolean;
  /** Scan every vector exactly, bypassing any approximate index (recall checks, benchmarks). */
  exact?: boolean;
}

/** One page of `VectorStore.scan`. */
export interface ScanOptions {
  /** Exclusive cursor: only points whose id sorts after this one (the last id of the previous page). */
  after?: string;
  /** Points per page (at least 1). */
  limit: number;
}

export interface SearchHit {
  id: string;
  /** Cosine similarity in [-1, 1]. */
  score: number;
  payload: PointPayload;
}

/**
 * The vector store every backend implements (embedded and Qdrant). Every call names the tenant;
 * implementations must filter every read and write by it. A resolved write is durable.
 */
export interface VectorStore {
  /** Insert or replace points by id. Resolves only once the points are durably written. */
  upsert(tenant: string, points: StoredPoint[]): Promise<void>;
  /** Delete all points of an image, except those whose ids are in `keepIds` (stale-region clean-up). */
  deleteImage(tenant: string, imageId: string, keepIds?: readonly string[]): Promise<void>;
  /**
   * Make `points` (all of `imageId`, all of `tenant`) the image's only points: upsert them, then
   * delete the image's other points (Qdrant: both in one batch request; LanceDB: one append when
   * the image has no point yet). Idempotent, so a failed call is retried whole. Resolves once durable.
   */
  replaceImage(tenant: string, imageId: string, points: StoredPoint[]): Promise<void>;
  search(tenant: string, vector: Float32Array, options: SearchOptions): Promise<SearchHit[]>;
  get(tenant: string, id: string, withVector?: boolean): Promise<StoredPoint | null>;
  /** All points of one image, ordered by regionIndex (the whole-image point first). */
  listImage(tenant: string, imageId: string, withVector?: boolean): Promise<StoredPoint[]>;
  count(tenant: string, filter?: SearchFilter): Promise<number>;
  /**
   * Replace the name and metadata of every point of an image in place, vectors untouched (Qdrant
   * `set_payload`, LanceDB `update`): `PATCH /v1/images/{id}` without re-embedding. Resolves once durable.
   */
  setImageFields(tenant: string, imageId: string, fields: ImageFields): Promise<void>;
  /**
   * A page of a tenant's points, vectors included, in ascending id order (ids are lower-case UUIDs,
   * compared as strings). Paging by id rather than by offset keeps a copy resumable from its last id
   * and stable while points are written: a page never repeats or skips a point that stays put.
   * Optional: the stores that hold data (embedded, Qdrant) implement it; a proxy such as the gateway's
   * RPC store need not, and `copyIndex` refuses a source without it.
   */
  scan?(tenant: string, options: ScanOptions): Promise<StoredPoint[]>;
  close?(): Promise<void>;
}

/** A store that can be read page by page: what `copyIndex` needs of its source. */
export type ScannableStore = VectorStore & Pick<Required<VectorStore>, "scan">;
