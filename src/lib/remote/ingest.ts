/**
 * The ingest function's signed endpoints (gateway queue consumer → ingest function), declared once
 * for both sides: src/edge/consumer.ts calls them, src/node/functions/ingest/ serves them.
 * - `POST /v1/jobs/ingest` `{tenant, imageId, attempt, final}`: one ingest job; `webhook-id` is the
 *   queue message id, stable across retries, so the function runs a job once.
 * - `POST /v1/webhooks/storage`: an R2 or S3 event notification, forwarded as it came.
 */
import { z } from "zod";
import { SAFE_ID_PATTERN } from "../safe-ids.js";

export const INGEST_JOB_PATH = "/v1/jobs/ingest";
export const STORAGE_WEBHOOK_PATH = "/v1/webhooks/storage";

export const IngestJobRequest = z.strictObject({
  tenant: z.string().regex(SAFE_ID_PATTERN),
  imageId: z.string().regex(SAFE_ID_PATTERN),
  /** The queue's delivery count (1 = first). */
  attempt: z.number().int().min(1).default(1),
  /** No retry follows this attempt: a failure now is final. */
  final: z.boolean().default(true),
});

export type IngestJobRequest = z.input<typeof IngestJobRequest>;
