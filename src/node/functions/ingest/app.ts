/**
 * The ingest function: signed job calls from the gateway's queue consumer and signed storage
 * event notifications, both ending in `processIngestJob` on the function's own storage.
 */
import { processIngestJob } from "../../../lib/ingest.js";
import { resolveLimits, type Limits } from "../../../lib/limits.js";
import type { RegionExtractor } from "../../../lib/services.js";
import type { Logger } from "../../logging.js";
import { createFunctionApp, type FunctionMetrics } from "../app.js";
import { IdempotencyCache } from "../idempotency.js";
import type { FunctionApp, FunctionStorage, IngestFunctionDeps } from "../types.js";
import { registerIngestJob } from "./job.js";
import { KeyOrder } from "./key-order.js";
import { registerStorageWebhook } from "./storage.js";

export interface IngestFunctionOptions {
  secrets: readonly string[];
  limits?: Partial<Limits>;
  log?: Logger;
  metrics?: FunctionMetrics;
}

export function createIngestFunction(
  backends: FunctionStorage,
  extractor: RegionExtractor,
  options: IngestFunctionOptions,
): { app: FunctionApp; deps: IngestFunctionDeps } {
  const deps: IngestFunctionDeps = {
    ...backends,
    extractor,
    limits: resolveLimits(options.limits),
    ingest: async (job, attempt) => {
      const outcome = await processIngestJob({ ...backends, extractor }, job, attempt);
      options.metrics?.metrics.observeIngest(outcome);
      return outcome;
    },
    idempotency: new IdempotencyCache(),
    keyOrder: new KeyOrder(),
  };
  const app = createFunctionApp({
    name: "ingest",
    secrets: options.secrets,
    maxBodyBytes: 1024 * 1024,
    log: options.log,
    metrics: options.metrics,
  });
  registerIngestJob(app, deps);
  registerStorageWebhook(app, deps);
  return { app, deps };
}
