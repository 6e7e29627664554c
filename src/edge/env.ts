/**
 * The Worker's bindings (wrangler.toml documents each) and its variables, parsed once per isolate
 * with zod. Nothing deeper reads `env` except through `GatewayConfig`.
 */
import type { KVNamespace, Queue, R2Bucket, RateLimit } from "@cloudflare/workers-types";
import { z } from "zod";
import { DEFAULT_LIMITS } from "../lib/limits.js";
import { urlFetchSwitchFields } from "../lib/url-fetch/env.js";

/** An ingest job on the queue. `type` tells it apart from R2 event notifications. */
export interface IngestMessage {
  type: "ingest";
  tenant: string;
  imageId: string;
}

export interface GatewayBindings {
  /** Images (`images/…`) and image records (`catalog/…`). */
  IMAGES: R2Bucket;
  /** `apikey:<sha256 hex>` → `{"tenant": "…"}`. */
  API_KEYS: KVNamespace;
  INGEST_QUEUE: Queue<IngestMessage>;
  RATE_LIMITER: RateLimit;
  [name: string]: unknown;
}

const int = (min: number) => z.coerce.number().int().min(min);

const varsSchema = z.object({
  INGEST_URL: z.url({ protocol: /^https?$/ }),
  QUERY_URL: z.url({ protocol: /^https?$/ }),
  /** Must equal the pack the functions load (`name@version`). */
  MODEL_PACK_ID: z.string().min(3),
  WEBHOOK_SECRET: z.string().min(1).transform((s) => s.split(/[\s,]+/).filter(Boolean)).pipe(z.array(z.string().startsWith("whsec_")).min(1)),
  MAX_UPLOAD_BYTES: int(1).default(DEFAULT_LIMITS.maxUploadBytes),
  MAX_PIXELS: int(1).default(DEFAULT_LIMITS.maxPixels),
  MAX_SIDE: int(1).default(DEFAULT_LIMITS.maxSide),
  /** Must match `simple.period` of the rate-limit binding: the Retry-After we announce. */
  RATE_LIMIT_PERIOD_SEC: int(1).default(60),
  /** Must equal the ingest queue's `max_retries + 1`: the attempt after which a job fails for good. */
  INGEST_MAX_ATTEMPTS: int(1).default(4),
  INGEST_DLQ_NAME: z.string().min(1).default("region-search-ingest-dlq"),
  STORAGE_EVENTS_QUEUE_NAME: z.string().min(1).default("region-search-storage-events"),
  FUNCTION_TIMEOUT_MS: int(1).default(60_000),
  /**
   * `POST /v1/images {url}`: on by default, fetched by the query function (pinned there; the fetch's
   * own limits are its variables). Here: the off switch and the ports of the literal pre-check.
   */
  ...urlFetchSwitchFields(),
});

export type GatewayVars = z.infer<typeof varsSchema>;

export interface GatewayConfig {
  bindings: GatewayBindings;
  vars: GatewayVars;
}

export function parseGatewayEnv(env: GatewayBindings): GatewayConfig {
  const parsed = varsSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid gateway configuration: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return { bindings: env, vars: parsed.data };
}
