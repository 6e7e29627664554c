/**
 * The environment of the Node functions (ingest, query), parsed once at the entry with zod. Nothing
 * below the entry reads `process.env`. The groups are the shared ones (src/lib/env-fields.ts,
 * src/node/storage-env.ts); only what sets a function apart is declared here: the webhook secrets
 * it verifies with, and objects that may live off this machine.
 */
import { z } from "zod";
import {
  dataDirFields,
  imageLimitFields,
  intVar,
  modelPackFields,
  ortFields,
  parseEnvWith,
  serviceFields,
  webhookSecretFields,
} from "../../lib/env-fields.js";
import { DEFAULT_RECONCILE_TIMES } from "../../lib/webhooks/storage-reconcile.js";
import { urlFetchEnvFields } from "../../lib/url-fetch/env.js";
import {
  checkObjectStore,
  checkVectorStore,
  objectStoreFields,
  vectorStoreFields,
} from "../storage-env.js";
import { metricsEnvFields } from "../metrics/env.js";

const functionEnvSchema = z
  .object({
    ...serviceFields,
    ...webhookSecretFields,
    ...modelPackFields,
    ...ortFields,
    ...objectStoreFields,
    ...vectorStoreFields,
    ...dataDirFields,
    ...imageLimitFields,
    /** Query function: `/rpc/fetch-url`, the gateway's `POST /v1/images {url}` (pinned; src/node/url-fetch.ts). */
    ...urlFetchEnvFields(),
    /**
     * Ingest function: how long after its event time an object without an image record waits for
     * the gateway's record before it counts as a direct upload (src/lib/webhooks/storage-reconcile.ts).
     */
    STORAGE_EVENT_SETTLE_MS: intVar(0, 300_000).default(DEFAULT_RECONCILE_TIMES.settleMs),
    ...metricsEnvFields,
  })
  .superRefine((e, ctx) => {
    checkObjectStore(e, ctx);
    checkVectorStore(e, ctx);
  });

export type FunctionEnv = z.infer<typeof functionEnvSchema>;

export function parseFunctionEnv(env: Record<string, string | undefined>): FunctionEnv {
  return parseEnvWith(functionEnvSchema, env);
}

const hostEnvSchema = z.object({
  /** functions/ingest-query.ts: the query app's port (the ingest app listens on PORT). */
  QUERY_PORT: intVar(1, 65535).optional(),
});

/** Both functions in one process: the function environment, plus the query app's port (default PORT + 1). */
export function parseHostEnv(
  env: Record<string, string | undefined>,
): FunctionEnv & { QUERY_PORT: number } {
  const fn = parseFunctionEnv(env);
  const host = parseEnvWith(hostEnvSchema, env);
  return { ...fn, QUERY_PORT: host.QUERY_PORT ?? fn.PORT + 1 };
}
