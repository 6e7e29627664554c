/**
 * The ingest function: signed job calls from the gateway's queue consumer and signed storage
 * event notifications, both ending in `processIngestJob` on the function's own storage.
 */
import { processIngestJob, type IngestAttempt, type IngestOutcome } from "../../../lib/ingest.js";
import { resolveLimits, type Limits } from "../../../lib/limits.js";
import type { IngestJob, RegionExtractor } from "../../../lib/services.js";
import type { Logger } from "../../logging.js";
import { createFunctionApp, type FunctionApp } from "../app.js";
import type { Backends } from "../backends.js";
import { IdempotencyCache } from "../idempotency.js";
import { registerIngestJob } from "./job.js";
import { registerStorageWebhook } from "./storage.js";
import { KeyOrder } from "./storage-sync.js";

export interface IngestFunctionDeps extends Backends {
  extractor: RegionExtractor;
  limits: Limits;
  ingest(job: IngestJob, attempt: IngestAttempt): Promise<IngestOutcome>;
  idempotency: IdempotencyCache<IngestOutcome>;
  keyOrder: KeyOrder;
}

export interface IngestFunctionOptions {
  secrets: readonly string[];
  limits?: Partial<Limits>;
  log?: Logger;
}

export function createIngestFunction(backends: Backends, extractor: RegionExtractor, options: IngestFunctionOptions): { app: FunctionApp; deps: IngestFunctionDeps } {
  const deps: IngestFunctionDeps = {
    ...backends,
    extractor,
    limits: resolveLimits(options.limits),
    ingest: (job, attempt) => processIngestJob({ ...backends, extractor }, job, attempt),
    idempotency: new IdempotencyCache(),
    keyOrder: new KeyOrder(),
  };
  const app = createFunctionApp({ name: "ingest", secrets: options.secrets, maxBodyBytes: 1024 * 1024, log: options.log });
  registerIngestJob(app, deps);
  registerStorageWebhook(app, deps);
  return { app, deps };
}
