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
  webhookSecretFields,
  type EnvCheck,
} from "../../lib/env-fields.js";
import { DEFAULT_LIMITS } from "../../lib/limits.js";
import { urlFetchEnvFields, urlFetchSettings } from "../../lib/url-fetch/env.js";
import {
  checkObjectStore,
  checkVectorStore,
  objectStoreFields,
  objectSettings,
  vectorStoreFields,
  vectorStoreSettings,
} from "../storage-env.js";
import type { S3ObjectStoreOptions } from "../objects/s3.js";
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

/** The bucket of the storage webhook: the S3_* variables, meaning what they mean on the functions. */
const {
  S3_ENDPOINT,
  S3_REGION,
  S3_BUCKET,
  S3_ACCESS_KEY_ID,
  S3_SECRET_ACCESS_KEY,
  S3_FORCE_PATH_STYLE,
} = objectStoreFields;
const s3BucketFields = {
  S3_ENDPOINT,
  S3_REGION,
  S3_BUCKET,
  S3_ACCESS_KEY_ID,
  S3_SECRET_ACCESS_KEY,
  S3_FORCE_PATH_STYLE,
};
type WebhookEnv = z.infer<z.ZodObject<typeof s3BucketFields>> & { WEBHOOK_SECRET?: string[] };

/** The webhook needs both its secret and its bucket; the bucket needs what `OBJECT_STORE=s3` needs. */
const checkStorageWebhook: EnvCheck<WebhookEnv> = (e, ctx) => {
  if (!e.WEBHOOK_SECRET && !e.S3_BUCKET) return;
  if (!e.WEBHOOK_SECRET || !e.S3_BUCKET) {
    ctx.addIssue({
      code: "custom",
      message: "the storage webhook needs both WEBHOOK_SECRET and S3_BUCKET (and the other S3_*)",
      path: [e.WEBHOOK_SECRET ? "S3_BUCKET" : "WEBHOOK_SECRET"],
    });
    return;
  }
  checkObjectStore({ ...e, OBJECT_STORE: "s3" }, ctx);
};

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
    /**
     * `POST /v1/webhooks/storage` (storage-webhook.ts): on when set, with the S3_* bucket whose
     * event notifications it receives, signed with one of these secrets.
     */
    WEBHOOK_SECRET: webhookSecretFields.WEBHOOK_SECRET.optional(),
    ...s3BucketFields,
    ...metricsEnvFields,
  })
  .superRefine((e, ctx) => {
    checkVectorStore(e, ctx);
    checkStorageWebhook(e, ctx);
  });

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
    metadataFields: env.METADATA_INDEXES,
    metricsToken: env.METRICS_TOKEN,
  };
}

/** The storage webhook's secrets and bucket, when WEBHOOK_SECRET and S3_BUCKET are set. */
export function storageWebhookSettings(
  env: Env,
): { secrets: string[]; bucket: S3ObjectStoreOptions } | undefined {
  if (!env.WEBHOOK_SECRET || !env.S3_BUCKET) return undefined;
  const s3 = objectSettings({ ...env, OBJECT_STORE: "s3" });
  if (s3.kind !== "s3") return undefined;
  return { secrets: env.WEBHOOK_SECRET, bucket: s3.options };
}
