/**
 * POST /v1/jobs/ingest — one ingest job, called by the gateway's queue consumer with a Standard
 * Webhooks signature: `{tenant, imageId, attempt, final}` → `processIngestJob`. Idempotent per
 * `webhook-id` (the queue message id, stable across the queue's retries).
 *
 * Answers 200 with the outcome when the job settled (indexed, skipped, failed for good) and 503 when
 * it failed in a way worth retrying, so the queue consumer retries on any non-2xx answer. A job whose
 * record or bytes this function cannot read (`image_missing`) answers 503 on its last attempt too:
 * the queue then dead-letters it and the gateway, which sees the bucket, marks the record `failed`
 * (no job is acknowledged while its image waits).
 */
import { validationError } from "../../../lib/errors.js";
import { IMAGE_MISSING, type IngestOutcome } from "../../../lib/ingest.js";
import { INGEST_JOB_PATH, IngestJobRequest } from "../../../lib/remote/ingest.js";
import { signedJson } from "../../../lib/webhooks/middleware.js";
import type { FunctionApp, IngestFunctionDeps } from "../types.js";

export function registerIngestJob(app: FunctionApp, deps: IngestFunctionDeps): void {
  app.post(INGEST_JOB_PATH, async (c) => {
    const signed = c.get("webhook");
    const parsed = IngestJobRequest.safeParse(signedJson(signed));
    if (!parsed.success) throw validationError(parsed.error);
    const { tenant, imageId, attempt, final } = parsed.data;
    const { value: outcome, replayed } = await deps.idempotency.run(
      signed.id,
      () => deps.ingest({ tenant, imageId }, { attempt, final }),
      (o) => !(o.status === "failed" && o.retry),
    );
    return c.json({ outcome, replayed }, retryable(outcome) ? 503 : 200);
  });
}

const retryable = (o: IngestOutcome): boolean =>
  o.status === "failed" && (o.retry || o.errorCode === IMAGE_MISSING);
