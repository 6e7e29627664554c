/**
 * The Qdrant vector store, the only way into this folder: `createQdrantStore(options)`, the
 * `QDRANT_*` variables (`qdrantEnvFields`, folded into each entry's schema by src/node/storage-env.ts,
 * and `qdrantOptions`), and re-indexing behind an alias (`reindexQdrant`, `qdrantLayout`).
 */
import { z } from "zod";
import { metadataIndexFields } from "../../metadata/indexes.js";
import type { QdrantStoreOptions } from "./config.js";

export { createQdrantStore, qdrantClient, type QdrantVectorStore } from "./store.js";
export { qdrantLayout, reindexQdrant, type ImageRef, type ReindexOptions } from "./reindex.js";
export { CollectionMismatchError, existingDimension } from "./bootstrap.js";
export { CollectionSetupError } from "./verify.js";
export { resolveOptions, type QdrantStoreOptions } from "./config.js";

const flag = z
  .enum(["0", "1", "true", "false"])
  .default("false")
  .transform((v) => v === "1" || v === "true");

/** The `QDRANT_*` variables, one definition for every entry that reads them. */
export const qdrantEnvFields = {
  QDRANT_URL: z.url({ protocol: /^https?$/ }),
  QDRANT_API_KEY: z.string().min(1).optional(),
  QDRANT_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/)
    .default("regions"),
  QDRANT_QUANTIZATION: flag,
  QDRANT_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
  // Cluster layout of a collection this deployment creates (Qdrant's defaults when unset); an
  // existing collection with fewer replicas than QDRANT_REPLICATION_FACTOR is refused at start-up.
  QDRANT_SHARD_NUMBER: z.coerce.number().int().min(1).optional(),
  QDRANT_REPLICATION_FACTOR: z.coerce.number().int().min(1).optional(),
  QDRANT_WRITE_CONSISTENCY_FACTOR: z.coerce.number().int().min(1).optional(),
  ...metadataIndexFields,
};

/** Parsed `QDRANT_*` values → store options (`dim` comes from the model pack). */
export function qdrantOptions(
  e: z.infer<z.ZodObject<typeof qdrantEnvFields>>,
  dim: number,
): QdrantStoreOptions {
  return {
    url: e.QDRANT_URL,
    apiKey: e.QDRANT_API_KEY,
    collection: e.QDRANT_COLLECTION,
    quantization: e.QDRANT_QUANTIZATION,
    timeoutMs: e.QDRANT_TIMEOUT_MS,
    shardNumber: e.QDRANT_SHARD_NUMBER,
    replicationFactor: e.QDRANT_REPLICATION_FACTOR,
    writeConsistencyFactor: e.QDRANT_WRITE_CONSISTENCY_FACTOR,
    metadataIndexes: e.METADATA_INDEXES,
    dim,
  };
}
