/**
 * The Qdrant vector store: `createQdrantStore(options)` or, from an environment, `qdrantOptionsFromEnv`
 * (entries that parse the `QDRANT_*` group on its own; the local server folds `qdrantEnvFields` into
 * its own schema instead). Re-indexing behind an alias: `reindexQdrant`.
 */
import { z } from "zod";
import { formatIssues } from "../../errors.js";
import type { QdrantStoreOptions } from "./config.js";

export { createQdrantStore, qdrantClient, QdrantVectorStore } from "./store.js";
export { reindexQdrant, type ImageRef, type ReindexOptions, type ReindexProgress, type ReindexResult } from "./reindex.js";
export { CollectionMismatchError, existingDimension, type BootstrapReport } from "./bootstrap.js";
export { PAYLOAD_INDEXES, resolveOptions, VECTOR_NAME, type QdrantStoreOptions } from "./config.js";
export { toStoreError } from "./errors.js";

const flag = z.enum(["0", "1", "true", "false"]).default("false").transform((v) => v === "1" || v === "true");

/** The `QDRANT_*` variables, one definition for every entry that reads them. */
export const qdrantEnvFields = {
  QDRANT_URL: z.url({ protocol: /^https?$/ }),
  QDRANT_API_KEY: z.string().min(1).optional(),
  QDRANT_COLLECTION: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/).default("regions"),
  QDRANT_QUANTIZATION: flag,
  QDRANT_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
};

const qdrantEnv = z.object(qdrantEnvFields);

/** Parsed `QDRANT_*` values → store options (`dim` comes from the model pack). */
export function qdrantOptions(e: z.infer<typeof qdrantEnv>, dim: number): QdrantStoreOptions {
  return {
    url: e.QDRANT_URL,
    apiKey: e.QDRANT_API_KEY,
    collection: e.QDRANT_COLLECTION,
    quantization: e.QDRANT_QUANTIZATION,
    timeoutMs: e.QDRANT_TIMEOUT_MS,
    dim,
  };
}

/**
 * `QDRANT_*` variables → store options, for an entry point that has chosen `VECTOR_STORE=qdrant`.
 * `dim` comes from the model pack, never from the environment, so the two cannot disagree.
 */
export function qdrantOptionsFromEnv(env: Record<string, string | undefined>, dim: number): QdrantStoreOptions {
  const parsed = qdrantEnv.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid Qdrant environment: ${formatIssues(parsed.error.issues)}`);
  }
  return qdrantOptions(parsed.data, dim);
}
