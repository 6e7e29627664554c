/**
 * The local server's environment, parsed once (at the entry, functions/local.ts) with zod. Nothing
 * deeper reads `process.env`: everything below gets these values as arguments.
 */
import { z } from "zod";
import { amgOverridesEnvField } from "../../lib/amg/index.js";
import { isHashedKey } from "../../lib/api/auth.js";
import { DEFAULT_LIMITS } from "../../lib/limits.js";
import { qdrantEnvFields, qdrantOptions } from "../../lib/store/qdrant/index.js";
import { urlFetchEnvFields, urlFetchSettings } from "../../lib/url-fetch/env.js";
import type { LocalServerSettings, VectorStoreSettings } from "./build.js";
import { extractorOptionsFromEnv, sessionOptionsFromEnv, type ModelOptions } from "./models.js";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/**
 * `"key1:tenantA,sha256:<hex of key2>:tenantB"` → `{ key1: "tenantA", "sha256:<hex>": "tenantB" }`:
 * each key in plain text or as its SHA-256 (src/lib/api/auth.ts), so the environment need hold no
 * usable key.
 */
const apiKeys = z
  .string()
  .default("")
  .transform((s, ctx) => {
    const out: Record<string, string> = {};
    for (const pair of s.split(",").map((p) => p.trim()).filter(Boolean)) {
      const at = pair.lastIndexOf(":");
      const key = pair.slice(0, Math.max(0, at)), tenant = pair.slice(at + 1);
      if (at <= 0 || !tenant) ctx.addIssue({ code: "custom", message: "expected key:tenant pairs separated by commas" });
      else if (key.includes(":") && !isHashedKey(key)) {
        ctx.addIssue({ code: "custom", message: "a key contains no ':' unless it is sha256:<64 lower-case hex digits> (printf %s KEY | sha256sum)" });
      } else out[key] = tenant;
    }
    return out;
  });

export const envSchema = z
  .object({
    PORT: int(1, 65535).default(8080),
    HOST: z.string().default("0.0.0.0"),
    DATA_DIR: z.string().min(1).default("./data"),
    MODEL_PACK: z.string().min(1).default("models/shapes-tiny"),
    /** JSON AMG keys over the pack's `segmenter.amg` (src/lib/amg/params.ts); unset = the pack's. */
    AMG_OVERRIDES: amgOverridesEnvField,
    /** onnxruntime intra-op threads; 0 = one per physical core. */
    ORT_INTRA_OP_THREADS: int(0, 256).default(0),
    ORT_INTER_OP_THREADS: int(1, 256).default(1),
    /** Let onnxruntime's idle threads busy-wait between ops; off by default (see session.ts). */
    ORT_ALLOW_SPINNING: z.stringbool().default(false),
    /**
     * Ingest jobs in flight at once. The model worker runs one extraction at a time and already
     * uses every core; a second job lets one image's store writes and catalog updates (disk and
     * fsync waits) overlap the next image's inference.
     */
    INGEST_CONCURRENCY: int(1, 64).default(2),
    INGEST_MAX_ATTEMPTS: int(1, 100).default(3),
    INGEST_BACKOFF_MS: int(0).default(1000),
    MAX_UPLOAD_BYTES: int(1).default(DEFAULT_LIMITS.maxUploadBytes),
    MAX_PIXELS: int(1).default(DEFAULT_LIMITS.maxPixels),
    MAX_SIDE: int(1).default(DEFAULT_LIMITS.maxSide),
    WAIT_TIMEOUT_MS: int(0).default(DEFAULT_LIMITS.waitTimeoutMs),
    /** Rows at which the LanceDB ANN index is built. */
    VECTOR_INDEX_THRESHOLD: int(1).default(50_000),
    API_KEYS: apiKeys,
    /** Requests per minute per caller (tenant with API_KEYS, else client address); 0 = off. */
    RATE_LIMIT_PER_MINUTE: int(0).default(0),
    /** Requests a caller may make at once; default RATE_LIMIT_PER_MINUTE. */
    RATE_LIMIT_BURST: int(1).optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** `embedded` (LanceDB under DATA_DIR/vectors) or `qdrant` (the QDRANT_* variables). */
    VECTOR_STORE: z.enum(["embedded", "qdrant"]).default("embedded"),
    /** `POST /v1/images {url}`: on by default (addresses pinned; src/node/url-fetch.ts). */
    ...urlFetchEnvFields(),
    ...qdrantEnvFields,
    // Required only with VECTOR_STORE=qdrant (checked below); still validated whenever it is set.
    QDRANT_URL: qdrantEnvFields.QDRANT_URL.optional(),
  })
  .refine((e) => e.VECTOR_STORE !== "qdrant" || e.QDRANT_URL, { message: "QDRANT_URL is required with VECTOR_STORE=qdrant", path: ["QDRANT_URL"] });

export type Env = z.infer<typeof envSchema>;

export function parseEnv(env: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}

/**
 * The vector store the environment chose. `dim` is the model pack's embedding size
 * (`ModelPack.vectorDim`): the Qdrant collection is created with it, or checked against it.
 */
export function vectorStoreSettings(env: Env, dim: number): VectorStoreSettings {
  if (env.VECTOR_STORE === "embedded") return { kind: "embedded" };
  return { kind: "qdrant", options: qdrantOptions({ ...env, QDRANT_URL: env.QDRANT_URL! }, dim) };
}

/** Model-loading options from the parsed environment (the local server and the embedded CLI). */
export function modelOptions(env: Env): ModelOptions {
  return {
    packDir: env.MODEL_PACK,
    session: sessionOptionsFromEnv(env),
    extractor: extractorOptionsFromEnv(env),
  };
}

/** Server settings from the parsed environment; `dim` is the model pack's embedding size. */
export function localServerSettings(env: Env, dim: number): LocalServerSettings {
  return {
    dataDir: env.DATA_DIR,
    limits: { maxUploadBytes: env.MAX_UPLOAD_BYTES, maxPixels: env.MAX_PIXELS, maxSide: env.MAX_SIDE, waitTimeoutMs: env.WAIT_TIMEOUT_MS },
    apiKeys: env.API_KEYS,
    rateLimit: { perMinute: env.RATE_LIMIT_PER_MINUTE, burst: env.RATE_LIMIT_BURST },
    ingest: { concurrency: env.INGEST_CONCURRENCY, maxAttempts: env.INGEST_MAX_ATTEMPTS, backoffMs: env.INGEST_BACKOFF_MS },
    vectorIndexThreshold: env.VECTOR_INDEX_THRESHOLD,
    vectorStore: vectorStoreSettings(env, dim),
    urlFetch: urlFetchSettings(env),
  };
}
