/**
 * The Qdrant vector store: `createQdrantStore(options)` or, from an environment, `qdrantOptionsFromEnv`.
 */
import { z } from "zod";
import type { QdrantStoreOptions } from "./config.js";

export { createQdrantStore, QdrantVectorStore } from "./store.js";
export { CollectionMismatchError, type BootstrapReport } from "./bootstrap.js";
export { PAYLOAD_INDEXES, VECTOR_NAME, type QdrantStoreOptions } from "./config.js";
export { toStoreError } from "./errors.js";

const flag = z.enum(["0", "1", "true", "false"]).default("false").transform((v) => v === "1" || v === "true");

const qdrantEnv = z.object({
  QDRANT_URL: z.url({ protocol: /^https?$/ }),
  QDRANT_API_KEY: z.string().min(1).optional(),
  QDRANT_COLLECTION: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/).default("regions"),
  QDRANT_QUANTIZATION: flag,
  QDRANT_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
});

/**
 * `QDRANT_*` variables → store options, for an entry point that has chosen `VECTOR_STORE=qdrant`.
 * `dim` comes from the model pack, never from the environment, so the two cannot disagree.
 */
export function qdrantOptionsFromEnv(env: Record<string, string | undefined>, dim: number): QdrantStoreOptions {
  const parsed = qdrantEnv.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid Qdrant environment: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const e = parsed.data;
  return {
    url: e.QDRANT_URL,
    apiKey: e.QDRANT_API_KEY,
    collection: e.QDRANT_COLLECTION,
    quantization: e.QDRANT_QUANTIZATION,
    timeoutMs: e.QDRANT_TIMEOUT_MS,
    dim,
  };
}
