/**
 * Applies one storage event by reconciling with the object as it is *now*, not as the event says:
 * - the object exists → make sure it is indexed (unchanged bytes already indexed: nothing to do);
 * - it does not → remove its points and record.
 * Reading the current state makes the outcome independent of delivery order and repeats: a delete
 * that arrives before its create, or the same event five times, ends in the state of the object.
 * `order` (S3 sequencer / R2 event time) only drops events older than one already applied to the
 * key, to save work; and a per-key lock keeps two events of one key from interleaving here (key-order.ts).
 */
import { sha256Hex } from "../../../lib/api/upload.js";
import { toApiError } from "../../../lib/errors.js";
import type { IngestOutcome } from "../../../lib/ingest.js";
import { acceptImage } from "../../../lib/intake/index.js";
import type { Limits } from "../../../lib/limits.js";
import { parseImageKey } from "../../../lib/objects/index.js";
import type { ImageRecord } from "../../../lib/services.js";
import { scopeTenant, type TenantScope } from "../../../lib/tenant-scope.js";
import type { StorageEvent } from "../../../lib/webhooks/storage-events.js";
import type { IngestFunctionDeps } from "../types.js";

export type SyncResult =
  | { key: string; result: "ignored" | "stale" | "deleted" | "unchanged" }
  | { key: string; result: "ingested"; outcome: IngestOutcome }
  | { key: string; result: "rejected"; errorCode: string };

export async function applyStorageEvent(
  deps: IngestFunctionDeps,
  event: StorageEvent,
): Promise<SyncResult> {
  const ids = parseImageKey(event.key);
  if (!ids) return { key: event.key, result: "ignored" };
  return deps.keyOrder.serial(event.key, async () => {
    if (deps.keyOrder.isStale(event.key, event.order))
      return { key: event.key, result: "stale" as const };
    const result = await reconcile(deps, scopeTenant(deps, ids.tenant), ids.imageId, event.key);
    deps.keyOrder.markApplied(event.key, event.order);
    return result;
  });
}

async function reconcile(
  deps: IngestFunctionDeps,
  scope: TenantScope,
  imageId: string,
  key: string,
): Promise<SyncResult> {
  const blob = await scope.getBlob(imageId);
  if (!blob) {
    await scope.deleteImagePoints(imageId);
    await scope.deleteImage(imageId);
    return { key, result: "deleted" };
  }
  const sha256 = await sha256Hex(blob.bytes);
  const existing = await scope.getImage(imageId);
  if (
    existing?.sha256 === sha256 &&
    existing.status === "indexed" &&
    existing.pack === deps.extractor.pack
  ) {
    return { key, result: "unchanged" };
  }
  const record = newRecord(imageId, blob.bytes, sha256, deps.limits, existing);
  await scope.putImage(record);
  if (record.status === "failed")
    return { key, result: "rejected", errorCode: record.errorCode ?? "invalid_image" };
  const outcome = await deps.ingest({ tenant: scope.tenant, imageId }, { attempt: 1, final: true });
  return { key, result: "ingested", outcome };
}

/** A `queued` record for the object, or a `failed` one when the header check refuses it. */
function newRecord(
  id: string,
  bytes: Uint8Array,
  sha256: string,
  limits: Limits,
  existing: ImageRecord | null,
): Omit<ImageRecord, "tenant"> {
  const now = new Date().toISOString();
  const base = {
    id,
    bytes: bytes.length,
    sha256,
    attempts: 0,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  try {
    const image = acceptImage(bytes, limits);
    return {
      ...base,
      status: "queued",
      contentType: image.contentType,
      width: image.width,
      height: image.height,
    };
  } catch (err) {
    const e = toApiError(err);
    return {
      ...base,
      status: "failed",
      contentType: "application/octet-stream",
      error: e.message,
      errorCode: e.code,
    };
  }
}
