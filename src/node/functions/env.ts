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
  modelPackFields,
  ortFields,
  parseEnvWith,
  serviceFields,
  webhookSecretFields,
} from "../../lib/env-fields.js";
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
