/**
 * The Worker's queue consumer, for three queues:
 * - ingest jobs → a signed call to the ingest function (`webhook-id` = the message id, stable across
 *   retries, so the function deduplicates); non-2xx or a network error → retry with backoff; after
 *   `max_retries` Cloudflare moves the message to the dead-letter queue;
 * - the dead-letter queue → the image record is marked `failed` (listable with status=failed);
 * - R2 event notifications → forwarded, signed, to the ingest function's storage webhook.
 */
import type { Message, MessageBatch } from "@cloudflare/workers-types";
import { ObjectCatalog } from "../lib/objects/index.js";
import {
  INGEST_JOB_PATH,
  STORAGE_WEBHOOK_PATH,
  type IngestJobRequest,
} from "../lib/remote/ingest.js";
import { SignedClient } from "../lib/webhooks/client.js";
import type { GatewayConfig, IngestMessage } from "./env.js";
import { R2ObjectStore } from "./r2-objects.js";

export async function handleQueue(
  batch: MessageBatch<unknown>,
  config: GatewayConfig,
): Promise<void> {
  const { vars } = config;
  if (batch.queue === vars.INGEST_DLQ_NAME) return markDeadLettered(batch, config);
  const ingest = new SignedClient({
    baseUrl: vars.INGEST_URL,
    secrets: vars.WEBHOOK_SECRET,
    timeoutMs: vars.FUNCTION_TIMEOUT_MS,
  });
  const storageEvents = batch.queue === vars.STORAGE_EVENTS_QUEUE_NAME;
  // One at a time: each call runs the models; parallel calls would only queue up in the function.
  for (const msg of batch.messages) {
    const path = storageEvents ? STORAGE_WEBHOOK_PATH : INGEST_JOB_PATH;
    const payload = storageEvents
      ? msg.body
      : jobPayload(msg as Message<IngestMessage>, vars.INGEST_MAX_ATTEMPTS);
    await deliver(msg, () => ingest.post(path, payload, msg.id));
  }
}

function jobPayload(msg: Message<IngestMessage>, maxAttempts: number): IngestJobRequest {
  const { tenant, imageId } = msg.body;
  return { tenant, imageId, attempt: msg.attempts, final: msg.attempts >= maxAttempts };
}

async function deliver(msg: Message<unknown>, call: () => Promise<Response>): Promise<void> {
  try {
    const res = await call();
    if (res.ok) {
      await res.body?.cancel();
      return msg.ack();
    }
    console.warn(
      JSON.stringify({
        event: "delivery_failed",
        id: msg.id,
        status: res.status,
        attempt: msg.attempts,
        answer: (await res.text().catch(() => "")).slice(0, 500),
      }),
    );
  } catch (err) {
    console.warn(
      JSON.stringify({
        event: "delivery_error",
        id: msg.id,
        attempt: msg.attempts,
        error: String(err),
      }),
    );
  }
  msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
}

/** 2, 4, 8 … seconds, capped at 5 minutes. */
const backoffSeconds = (attempt: number): number => Math.min(300, 2 ** Math.max(1, attempt));

/**
 * Why a job ended in the dead-letter queue when the ingest function left no error on the record: it
 * never answered, or it could not read the record the gateway wrote (another object store).
 */
const NO_ANSWER =
  "the ingest function did not answer, or could not read this image's record (check INGEST_URL, and the function's OBJECT_STORE and GATEWAY_URL)";

async function markDeadLettered(
  batch: MessageBatch<unknown>,
  config: GatewayConfig,
): Promise<void> {
  const catalog = new ObjectCatalog(new R2ObjectStore(config.bindings.IMAGES));
  for (const msg of batch.messages) {
    const body = msg.body as Partial<IngestMessage>;
    const record =
      body.tenant && body.imageId ? await catalog.get(body.tenant, body.imageId) : null;
    if (record && record.status !== "indexed" && record.status !== "failed") {
      await catalog.put({
        ...record,
        status: "failed",
        error: `ingest gave up after its last retry (dead-lettered): ${record.error ?? NO_ANSWER}`,
        errorCode: record.errorCode ?? "ingest_failed",
        updatedAt: new Date().toISOString(),
      });
    }
    console.error(
      JSON.stringify({
        event: "dead_lettered",
        id: msg.id,
        tenant: body.tenant,
        imageId: body.imageId,
      }),
    );
    msg.ack();
  }
}
