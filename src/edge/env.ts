/**
 * The Worker's bindings (wrangler.toml documents each) and its variables, parsed once per isolate
 * with zod. Nothing deeper reads `env` except through `GatewayConfig`.
 */
import type { KVNamespace, Queue, R2Bucket, RateLimit } from "@cloudflare/workers-types";
import { z } from "zod";
import {
  imageLimitFields,
  intVar as int,
  parseEnvWith,
  webhookSecretFields,
} from "../lib/env-fields.js";
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

const varsSchema = z.object({
  INGEST_URL: z.url({ protocol: /^https?$/ }),
  QUERY_URL: z.url({ protocol: /^https?$/ }),
  /** Must equal the pack the functions load (`name@version`). */
  MODEL_PACK_ID: z.string().min(3),
  ...webhookSecretFields,
  ...imageLimitFields,
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
  return { bindings: env, vars: parseEnvWith(varsSchema, env, "invalid gateway configuration") };
}
