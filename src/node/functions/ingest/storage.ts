/**
 * POST /v1/webhooks/storage — object-storage event notifications (R2 or S3), signed per Standard
 * Webhooks by whoever relays them (the gateway forwards R2 notifications from their Queue; an S3
 * relay signs the same way). Each event is reconciled with the object's current state
 * (storage-sync.ts), so repeats and out-of-order deliveries converge on the object.
 *
 * 200 `{results}` when every event was applied; 503 when one failed in a retryable way (the relay
 * retries the whole delivery, which is safe because applying is idempotent).
 */
import { ApiError } from "../../../lib/errors.js";
import { STORAGE_WEBHOOK_PATH } from "../../../lib/remote/ingest.js";
import { signedJson } from "../../../lib/webhooks/middleware.js";
import { parseStorageEvents } from "../../../lib/webhooks/storage-events.js";
import type { FunctionApp, IngestFunctionDeps } from "../types.js";
import { applyStorageEvent, type SyncResult } from "./storage-sync.js";

export function registerStorageWebhook(app: FunctionApp, deps: IngestFunctionDeps): void {
  app.post(STORAGE_WEBHOOK_PATH, async (c) => {
    const events = parseStorageEvents(signedJson(c.get("webhook")));
    if (events === null)
      throw ApiError.invalid("Body is neither an R2 nor an S3 event notification");
    const results: SyncResult[] = [];
    // In delivery order: S3 batches list a key's events in sequence.
    for (const event of events) results.push(await applyStorageEvent(deps, event));
    return c.json({ results }, results.some(retryable) ? 503 : 200);
  });
}

const retryable = (r: SyncResult): boolean =>
  r.result === "ingested" && r.outcome.status === "failed" && r.outcome.retry;
