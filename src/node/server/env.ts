/**
 * The local server's environment, parsed once (at the entry, functions/local.ts) with zod. Nothing
 * deeper reads `process.env`: everything below gets these values as arguments.
 */
import { z } from "zod";
import { isHashedKey } from "../../lib/api/auth.js";
import {
  dataDirFields,
  imageLimitFields,
  imageLimits,
  intVar as int,
  modelPackFields,
  ortFields,
  parseEnvWith,
  serviceFields,
} from "../../lib/env-fields.js";
import { DEFAULT_LIMITS } from "../../lib/limits.js";
import { urlFetchEnvFields, urlFetchSettings } from "../../lib/url-fetch/env.js";
import { checkVectorStore, vectorStoreFields, vectorStoreSettings } from "../storage-env.js";
import { metricsEnvFields } from "../metrics/env.js";
import type { LocalServerSettings } from "./build.js";

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
    for (const pair of s
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)) {
      const at = pair.lastIndexOf(":");
      const key = pair.slice(0, Math.max(0, at)),
        tenant = pair.slice(at + 1);
      if (at <= 0 || !tenant)
        ctx.addIssue({ code: "custom", message: "expected key:tenant pairs separated by commas" });
      else if (key.includes(":") && !isHashedKey(key)) {
        ctx.addIssue({
          code: "custom",
          message:
            "a key contains no ':' unless it is sha256:<64 lower-case hex digits> (printf %s KEY | sha256sum)",
        });
      } else out[key] = tenant;
    }
    return out;
  });

const envSchema = z
  .object({
    ...serviceFields,
    ...dataDirFields,
    ...modelPackFields,
    ...ortFields,
    /**
     * Ingest jobs in flight at once. The model worker runs one extraction at a time and already
     * uses every core; a second job lets one image's store writes and catalog updates (disk and
     * fsync waits) overlap the next image's inference.
     */
    INGEST_CONCURRENCY: int(1, 64).default(2),
    INGEST_MAX_ATTEMPTS: int(1, 100).default(3),
    INGEST_BACKOFF_MS: int(0).default(1000),
    ...imageLimitFields,
    WAIT_TIMEOUT_MS: int(0).default(DEFAULT_LIMITS.waitTimeoutMs),
    API_KEYS: apiKeys,
    /** Requests per minute per caller (tenant with API_KEYS, else client address); 0 = off. */
    RATE_LIMIT_PER_MINUTE: int(0).default(0),
    /** Requests a caller may make at once; default RATE_LIMIT_PER_MINUTE. */
    RATE_LIMIT_BURST: int(1).optional(),
    /** `POST /v1/images {url}`: on by default (addresses pinned; src/node/url-fetch.ts). */
    ...urlFetchEnvFields(),
    ...vectorStoreFields,
    ...metricsEnvFields,
  })
  .superRefine(checkVectorStore);

export type Env = z.infer<typeof envSchema>;

export function parseEnv(env: Record<string, string | undefined>): Env {
  return parseEnvWith(envSchema, env);
}

/** Server settings from the parsed environment; `dim` is the model pack's embedding size. */
export function localServerSettings(env: Env, dim: number): LocalServerSettings {
  return {
    dataDir: env.DATA_DIR,
    limits: { ...imageLimits(env), waitTimeoutMs: env.WAIT_TIMEOUT_MS },
    apiKeys: env.API_KEYS,
    rateLimit: { perMinute: env.RATE_LIMIT_PER_MINUTE, burst: env.RATE_LIMIT_BURST },
    ingest: {
      concurrency: env.INGEST_CONCURRENCY,
      maxAttempts: env.INGEST_MAX_ATTEMPTS,
      backoffMs: env.INGEST_BACKOFF_MS,
    },
    vectorIndexThreshold: env.VECTOR_INDEX_THRESHOLD,
    vectorStore: vectorStoreSettings(env, dim),
    urlFetch: urlFetchSettings(env),
    metricsToken: env.METRICS_TOKEN,
  };
}
