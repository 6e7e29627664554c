/**
 * `POST /v1/webhooks/storage` on the local server (`npm start`): object-storage event notifications
 * of an S3-compatible bucket (MinIO, S3, R2; S3 and R2 formats), signed per Standard Webhooks with
 * WEBHOOK_SECRET by whoever relays them. Objects at `images/<tenant>/<id>` — the layout the
 * serverless stack writes — are read from the bucket and reconciled with the local store
 * (src/lib/webhooks/storage-reconcile.ts, shared with the ingest function): new bytes are copied into
 * the server's own blob store and queued on its in-process queue, a removed object removes the image,
 * repeats and reordered events change nothing. It answers before the models run (`queued`).
 *
 * Signed instead of keyed, so it is dispatched ahead of the public API (whose /v1/* asks for an API
 * key): `withStorageWebhook`.
 */
import { Hono } from "hono";
import { ApiError } from "../../lib/errors.js";
import type { Limits } from "../../lib/limits.js";
import { parseImageKey, type ObjectStore } from "../../lib/objects/index.js";
import { STORAGE_WEBHOOK_PATH } from "../../lib/remote/ingest.js";
import { applyShell, type ApiLogger } from "../../lib/api/shell.js";
import type { Services } from "../../lib/services.js";
import { scopeTenant } from "../../lib/tenant-scope.js";
import { signedJson, verifySignature, type SignedEnv } from "../../lib/webhooks/middleware.js";
import { parseStorageEvents, type StorageEvent } from "../../lib/webhooks/storage-events.js";
import {
  DEFAULT_RECONCILE_TIMES,
  reconcileObject,
  type SyncResult,
} from "../../lib/webhooks/storage-reconcile.js";
import { KeyOrder } from "../../lib/webhooks/key-order.js";

export interface LocalStorageWebhookOptions {
  secrets: readonly string[];
  /** The bucket the notifications come from. */
  bucket: ObjectStore;
  services: Pick<Services, "catalog" | "blobs" | "vectors" | "jobs">;
  /** The pack the server indexes with (an image indexed with another pack is re-queued). */
  pack: string;
  limits: Limits;
  logger?: ApiLogger;
}

export function storageWebhookApp(o: LocalStorageWebhookOptions): Hono<SignedEnv> {
  const app = new Hono<SignedEnv>();
  const order = new KeyOrder();
  applyShell(app, o.logger ? { logger: o.logger } : {});
  app.use(STORAGE_WEBHOOK_PATH, verifySignature(o.secrets, { maxBytes: 1024 * 1024 }));
  app.post(STORAGE_WEBHOOK_PATH, async (c) => {
    const events = parseStorageEvents(signedJson(c.get("webhook")));
    if (events === null)
      throw ApiError.invalid("Body is neither an R2 nor an S3 event notification");
    const results: SyncResult[] = [];
    // In delivery order: S3 batches list a key's events in sequence.
    for (const event of events) results.push(await apply(o, order, event));
    return c.json({ results }, 200);
  });
  return app;
}

async function apply(
  o: LocalStorageWebhookOptions,
  order: KeyOrder,
  event: StorageEvent,
): Promise<SyncResult> {
  const { key } = event;
  const ids = parseImageKey(key);
  if (!ids) return { key, result: "ignored" };
  return order.serial(key, async () => {
    if (order.isStale(key, event)) return { key, result: "stale" as const };
    const scope = scopeTenant(o.services, ids.tenant);
    const result = await reconcileObject({
      scope,
      imageId: ids.imageId,
      key,
      eventTime: event.eventTime,
      readObject: async () => (await o.bucket.get(key))?.bytes ?? null,
      copyBlob: true,
      pack: o.pack,
      limits: o.limits,
      // The server writes its uploads to its own store, never to this bucket: no record to wait for.
      times: { ...DEFAULT_RECONCILE_TIMES, settleMs: 0 },
      start: async (imageId) => {
        await scope.enqueue(imageId);
        return { key, result: "queued" };
      },
    });
    order.markApplied(key, event);
    return result;
  });
}

/** The public API's fetch with the storage webhook dispatched ahead of it (it has no API key). */
export function withStorageWebhook(
  api: { fetch: (req: Request, ...rest: never[]) => Response | Promise<Response> },
  webhook: Hono<SignedEnv>,
): (req: Request) => Response | Promise<Response> {
  return (req) =>
    new URL(req.url).pathname === STORAGE_WEBHOOK_PATH ? webhook.fetch(req) : api.fetch(req);
}
