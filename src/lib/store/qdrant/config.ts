/**
 * Options of the Qdrant store and the collection layout they produce (docs/architecture.md §2): one collection,
 * one named cosine vector, payload indexes for the filters we run, optional int8 quantisation. A
 * fresh deployment gets the collection `<name>_v1` behind an alias `<name>`, so that a re-index can
 * later switch the alias to `<name>_v2` without search downtime.
 */
import type { Schemas } from "@qdrant/js-client-rest";
import type { MetadataIndex } from "./metadata.js";

/** Name of the one dense vector of every point. Named (not the unnamed default) so a second vector can be added later. */
export const VECTOR_NAME = "region";

/** Payload key → index schema. `tenant` is the tenant key: Qdrant co-locates a tenant's points and builds per-tenant HNSW links. */
export const PAYLOAD_INDEXES: ReadonlyArray<{
  field: string;
  schema: Schemas["PayloadFieldSchema"];
}> = [
  { field: "tenant", schema: { type: "keyword", is_tenant: true } },
  { field: "image_id", schema: "keyword" },
  { field: "kind", schema: "keyword" },
  // Range filter `minArea`: an integer index with range support (area is a pixel count).
  { field: "area", schema: { type: "integer", lookup: false, range: true } },
];

export interface HnswOptions {
  /** Edges per node of the global graph. */
  m: number;
  efConstruct: number;
  /** Edges per node of the per-tenant graphs built on the `is_tenant` index. */
  payloadM: number;
}

export interface RetryOptions {
  /** Attempts in all, including the first (1 = no retry). */
  attempts: number;
  /** First back-off delay; doubles per attempt, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface QdrantStoreOptions {
  url: string;
  apiKey?: string;
  /** Collection or alias name. An alias lets a re-index switch collections without downtime. */
  collection: string;
  /**
   * What bootstrap creates when `collection` names nothing yet: true (default) the collection
   * `<collection>_v1` and the alias `<collection>` to it; false a plain collection `<collection>`
   * (re-index targets). An existing collection or alias is used as it is either way.
   */
  createAlias?: boolean;
  /** Vector dimension of the model pack (`ModelPack.vectorDim`: `embedDim` per view). */
  dim: number;
  /** int8 scalar quantisation, searched with rescoring on the original vectors. */
  quantization?: boolean;
  /** Oversampling factor for quantised search (candidates re-scored = limit × this). */
  oversampling?: number;
  hnsw?: Partial<HnswOptions>;
  /** Per-request client timeout. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Points per upsert request. */
  batchSize?: number;
  /** Cluster settings used only when this store creates the collection. */
  replicationFactor?: number;
  writeConsistencyFactor?: number;
  shardNumber?: number;
  /** `medium`/`strong` route writes through a leader replica (see Qdrant "write ordering"). */
  writeOrdering?: Schemas["WriteOrdering"];
  readConsistency?: Schemas["ReadConsistency"];
  /** Metadata keys to index (`METADATA_INDEXES`), beside `PAYLOAD_INDEXES`. */
  metadataIndexes?: readonly MetadataIndex[];
}

export type ResolvedOptions = Required<
  Omit<
    QdrantStoreOptions,
    | "apiKey"
    | "hnsw"
    | "retry"
    | "replicationFactor"
    | "writeConsistencyFactor"
    | "shardNumber"
    | "writeOrdering"
    | "readConsistency"
    | "metadataIndexes"
  >
> &
  Pick<
    QdrantStoreOptions,
    | "apiKey"
    | "replicationFactor"
    | "writeConsistencyFactor"
    | "shardNumber"
    | "writeOrdering"
    | "readConsistency"
    | "metadataIndexes"
  > & {
    hnsw: HnswOptions;
    retry: RetryOptions;
  };

/** Fills defaults and rejects options that could only fail later, on the first request. */
export function resolveOptions(o: QdrantStoreOptions): ResolvedOptions {
  if (!/^https?:\/\//.test(o.url))
    throw new Error(`QDRANT_URL must start with http:// or https://, got ${JSON.stringify(o.url)}`);
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(o.collection))
    throw new Error(`invalid Qdrant collection name ${JSON.stringify(o.collection)}`);
  if (!Number.isInteger(o.dim) || o.dim < 1)
    throw new Error(`vector dimension must be a positive integer, got ${o.dim}`);
  return {
    ...o,
    quantization: o.quantization ?? false,
    oversampling: o.oversampling ?? 2,
    hnsw: { m: 16, efConstruct: 100, payloadM: 16, ...o.hnsw },
    timeoutMs: o.timeoutMs ?? 10_000,
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000, ...o.retry },
    batchSize: o.batchSize ?? 256,
    createAlias: o.createAlias ?? true,
  };
}

/** Collection names behind alias `alias`: `<alias>_v<n>` (bootstrap creates `_v1`, a re-index the next free one). */
export function versionedName(alias: string, n: number): string {
  return `${alias}_v${n}`;
}

/** `n` of a name `<alias>_v<n>`, or null for any other name. */
export function versionOf(alias: string, name: string): number | null {
  if (!name.startsWith(`${alias}_v`)) return null;
  const rest = name.slice(alias.length + 2);
  return /^[1-9][0-9]{0,8}$/.test(rest) ? Number(rest) : null;
}

/** The body of `PUT /collections/{name}` for these options. */
export function collectionSpec(o: ResolvedOptions): Schemas["CreateCollection"] {
  return {
    vectors: { [VECTOR_NAME]: { size: o.dim, distance: "Cosine" } },
    hnsw_config: { m: o.hnsw.m, ef_construct: o.hnsw.efConstruct, payload_m: o.hnsw.payloadM },
    // The int8 copy is pinned in RAM; the float32 originals stay evictable page cache ("cached"), read
    // only to rescore the top candidates. `memory` is the Qdrant 1.19 name (the 1.18 client types predate it).
    quantization_config: o.quantization
      ? ({
          scalar: { type: "int8", quantile: 0.99, memory: "pinned" },
        } as Schemas["QuantizationConfig"])
      : undefined,
    replication_factor: o.replicationFactor,
    write_consistency_factor: o.writeConsistencyFactor,
    shard_number: o.shardNumber,
  };
}
