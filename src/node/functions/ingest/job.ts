/**
 * POST /v1/jobs/ingest — one ingest job, called by the gateway's queue consumer with a Standard
 * Webhooks signature: `{tenant, imageId, attempt, final}` → `processIngestJob`. Idempotent per
 * `webhook-id` (the queue message id, stable across the queue's retries).
 *
 * Answers 200 with the outcome when the job settled (indexed, skipped, failed for good) and 503 when
 * it failed in a way worth retrying, so the queue consumer retries on any non-2xx answer.
 */
import { z } from "zod";
import { ApiError } from "../../../lib/errors.js";
import type { IngestOutcome } from "../../../lib/ingest.js";
import { SAFE_ID_PATTERN } from "../../../lib/store/ids.js";
import { signedJson } from "../../../lib/webhooks/middleware.js";
import type { FunctionApp } from "../app.js";
import type { IngestFunctionDeps } from "./app.js";

export const INGEST_JOB_PATH = "/v1/jobs/ingest";

const JobRequest = z.strictObject({
  tenant: z.string().regex(SAFE_ID_PATTERN),
  imageId: z.string().regex(SAFE_ID_PATTERN),
  attempt: z.number().int().min(1).default(1),
  final: z.boolean().default(true),
});

export function registerIngestJob(app: FunctionApp, deps: IngestFunctionDeps): void {
  app.post(INGEST_JOB_PATH, async (c) => {
    const signed = c.get("webhook");
    const parsed = JobRequest.safeParse(signedJson(signed));
    if (!parsed.success) throw ApiError.invalid(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const { tenant, imageId, attempt, final } = parsed.data;
    const { value: outcome, replayed } = await deps.idempotency.run(
      signed.id,
      () => deps.ingest({ tenant, imageId }, { attempt, final }),
      (o) => !(o.status === "failed" && o.retry),
    );
    return c.json({ outcome, replayed }, retryable(outcome) ? 503 : 200);
  });
}

const retryable = (o: IngestOutcome): boolean => o.status === "failed" && o.retry;
