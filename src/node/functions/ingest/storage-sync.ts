/**
 * Applies one storage event on the ingest function, where the bucket is the blob store: reconciles
 * the key with the object as it is now (src/lib/webhooks/storage-reconcile.ts: exactly one
 * extraction per object, whatever the order of the event and the gateway's job). The event's order
 * (S3 sequencer / R2 event time, each by its own rule) only drops events older than one already
 * applied to the key, to save work; a per-key lock keeps two events of one key from interleaving.
 */
import { parseImageKey } from "../../../lib/objects/index.js";
import { scopeTenant } from "../../../lib/tenant-scope.js";
import { reconcileObject, type SyncResult } from "../../../lib/webhooks/storage-reconcile.js";
import type { StorageEvent } from "../../../lib/webhooks/storage-events.js";
import type { IngestFunctionDeps } from "../types.js";

export type { SyncResult };

export async function applyStorageEvent(
  deps: IngestFunctionDeps,
  event: StorageEvent,
): Promise<SyncResult> {
  const { key } = event;
  const ids = parseImageKey(key);
  if (!ids) return { key, result: "ignored" };
  return deps.keyOrder.serial(key, async () => {
    if (deps.keyOrder.isStale(key, event)) return { key, result: "stale" as const };
    const scope = scopeTenant(deps, ids.tenant);
    const result = await reconcileObject({
      scope,
      imageId: ids.imageId,
      key,
      eventTime: event.eventTime,
      readObject: async () => (await scope.getBlob(ids.imageId))?.bytes ?? null,
      copyBlob: false,
      pack: deps.extractor.pack,
      limits: deps.limits,
      times: deps.reconcileTimes,
      start: async (imageId) => ({
        key,
        result: "ingested",
        outcome: await deps.ingest({ tenant: scope.tenant, imageId }, { attempt: 1, final: true }),
      }),
    });
    deps.keyOrder.markApplied(key, event);
    return result;
  });
}
