/**
 * One storage event applied by reconciling with the object as it is *now*, not as the event says —
 * shared by the ingest function (the bucket is its blob store) and the local server (objects read
 * from an S3-compatible bucket, copied into its own store). Reading the current state makes the
 * outcome independent of delivery order and repeats: a delete that arrives before its create, or the
 * same event five times, ends in the state of the object.
 *
 * Exactly one extraction per object. The gateway writes uploads under the prefix that notifications
 * watch, so every upload also arrives here as an event. An event never starts a second extraction:
 * - a record with the object's SHA-256 that is `indexed` with this pack → nothing to do;
 * - one that is `queued` or `processing`, updated within `pendingMs` → its job owns the extraction;
 *   a record stuck longer than that (its job lost) is taken over, so nothing waits forever;
 * - no record yet: the gateway writes the bytes first and the record a moment later, so an event may
 *   overtake it. The record is looked up again until `settleMs` after the event's time; only an
 *   object still without a record then is a direct upload, indexed here.
 */
import { sha256Hex } from "../api/upload.js";
import { toApiError } from "../errors.js";
import type { IngestOutcome } from "../ingest.js";
import { acceptImage } from "../intake/index.js";
import type { Limits } from "../limits.js";
import type { ImageRecord } from "../services.js";
import type { ScopedRecord, TenantScope } from "../tenant-scope.js";

export type SyncResult =
  | { key: string; result: "ignored" | "stale" | "deleted" | "unchanged" | "pending" }
  | { key: string; result: "ingested"; outcome: IngestOutcome }
  | { key: string; result: "queued" }
  | { key: string; result: "rejected"; errorCode: string };

export interface ReconcileTimes {
  /** How long after its event time a record-less object waits for the gateway's record. */
  settleMs: number;
  /** A `queued`/`processing` record older than this is taken over (its job is presumed lost). */
  pendingMs: number;
}

export const DEFAULT_RECONCILE_TIMES: ReconcileTimes = { settleMs: 10_000, pendingMs: 10 * 60_000 };

export interface ReconcileInput {
  scope: TenantScope;
  imageId: string;
  key: string;
  /** The event's time (ISO 8601), for the settle window. */
  eventTime: string;
  /** The object's bytes as the bucket holds them now; null when it is gone. */
  readObject(): Promise<Uint8Array | null>;
  /** Copy the bytes into the blob store (false where the bucket is the blob store). */
  copyBlob: boolean;
  pack: string;
  limits: Limits;
  times: ReconcileTimes;
  /** Runs or enqueues the extraction for a `queued` record just written. */
  start(imageId: string): Promise<SyncResult>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export async function reconcileObject(i: ReconcileInput): Promise<SyncResult> {
  const { scope, imageId, key } = i;
  const bytes = await i.readObject();
  if (!bytes) {
    await scope.deleteImagePoints(imageId);
    await scope.deleteImage(imageId);
    if (i.copyBlob) await scope.deleteBlob(imageId);
    return { key, result: "deleted" };
  }
  const sha256 = await sha256Hex(bytes);
  const existing = await settledRecord(i);
  const decision = decide(existing, sha256, i.pack, (i.now ?? Date.now)(), i.times.pendingMs);
  if (decision !== "ingest") return { key, result: decision };
  const record = newRecord(imageId, bytes, sha256, i.limits, existing, (i.now ?? Date.now)());
  if (i.copyBlob && record.status === "queued")
    await scope.putBlob(imageId, bytes, record.contentType);
  await scope.putImage(record);
  if (record.status === "failed")
    return { key, result: "rejected", errorCode: record.errorCode ?? "invalid_image" };
  return i.start(imageId);
}

/** What a created object needs, given its image's record (pure). */
export function decide(
  existing: Pick<ImageRecord, "sha256" | "status" | "pack" | "updatedAt"> | null,
  sha256: string,
  pack: string,
  nowMs: number,
  pendingMs: number,
): "unchanged" | "pending" | "ingest" {
  if (!existing || existing.sha256 !== sha256) return "ingest";
  if (existing.status === "indexed" && existing.pack === pack) return "unchanged";
  const busy = existing.status === "queued" || existing.status === "processing";
  if (busy && nowMs - Date.parse(existing.updatedAt) < pendingMs) return "pending";
  return "ingest";
}

/** The record, looked up again until `settleMs` after the event when there is none yet. */
async function settledRecord(i: ReconcileInput): Promise<ImageRecord | null> {
  const now = i.now ?? Date.now;
  const sleep = i.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const until = (Date.parse(i.eventTime) || now()) + i.times.settleMs;
  for (;;) {
    const record = await i.scope.getImage(i.imageId);
    const left = until - now();
    if (record || left <= 0) return record;
    await sleep(Math.min(left, 500));
  }
}

/** A `queued` record for the object, or a `failed` one when the header check refuses it. */
function newRecord(
  id: string,
  bytes: Uint8Array,
  sha256: string,
  limits: Limits,
  existing: ImageRecord | null,
  nowMs: number,
): ScopedRecord {
  const now = new Date(nowMs).toISOString();
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
