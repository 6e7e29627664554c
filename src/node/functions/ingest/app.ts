/**
 * The ingest function: signed job calls from the gateway's queue consumer and signed storage
 * event notifications, both ending in `processIngestJob` on the function's own storage.
 */
import { processIngestJob } from "../../../lib/ingest.js";
import { resolveLimits, type Limits } from "../../../lib/limits.js";
import type { RegionExtractor } from "../../../lib/services.js";
import {
  DEFAULT_RECONCILE_TIMES,
  type ReconcileTimes,
} from "../../../lib/webhooks/storage-reconcile.js";
import { logJobEvent, type Logger } from "../../logging.js";
import { createFunctionApp, type FunctionMetrics } from "../app.js";
import { IdempotencyCache } from "../idempotency.js";
import type { FunctionApp, FunctionStorage, IngestFunctionDeps } from "../types.js";
import { registerIngestJob } from "./job.js";
import { KeyOrder } from "../../../lib/webhooks/key-order.js";
import { registerStorageWebhook } from "./storage.js";

export interface IngestFunctionOptions {
  secrets: readonly string[];
  limits?: Partial<Limits>;
  log?: Logger;
  /** Storage events: the settle and pending windows (storage-reconcile.ts); tests shorten them. */
  reconcileTimes?: Partial<ReconcileTimes>;
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
      const started = performance.now();
      const outcome = await processIngestJob({ ...backends, extractor }, job, attempt);
      options.metrics?.metrics.observeIngest(outcome);
      // One line per job, as the local server logs them: how often the models ran, and why not.
      if (options.log) {
        const ms = performance.now() - started;
        logJobEvent(options.log, { job, attempt: attempt.attempt, outcome, ms });
      }
      return outcome;
    },
    idempotency: new IdempotencyCache(),
    keyOrder: new KeyOrder(),
    reconcileTimes: { ...DEFAULT_RECONCILE_TIMES, ...options.reconcileTimes },
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
