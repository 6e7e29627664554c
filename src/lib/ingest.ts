/**
 * One ingest job: stored bytes → regions with vectors → points in the vector store → record `indexed`.
 *
 * Runs anywhere a `RegionExtractor` exists (the in-process queue of the local server, or a Node
 * function behind a remote queue). The retry *policy* lives here (what is worth retrying, what the
 * record says meanwhile); the *schedule* (backoff, attempt counting) belongs to the queue.
 *
 * Order matters for "nothing acknowledged is lost": the image's points are replaced durably
 * (`VectorStore.replaceImage`: the new ones upserted first, then its stale ones — ids not in the new
 * set — deleted) before the record says `indexed`. A crash at any point leaves either the old
 * regions, old + new, or new: never none, never duplicates (ids are deterministic, so re-upserting
 * replaces).
 */
import { isImageInputError } from "./errors.js";
import type {
  BlobStore,
  ExtractedImage,
  ImageCatalog,
  IngestJob,
  RegionExtractor,
  UploadPrefetch,
} from "./services.js";
import { pointId } from "./store/ids.js";
import { scopeTenant, type ScopedPoint, type TenantScope } from "./tenant-scope.js";
import type { ImageFields, VectorStore } from "./store/types.js";

export interface IngestDeps {
  catalog: ImageCatalog;
  blobs: BlobStore;
  vectors: VectorStore;
  extractor: RegionExtractor;
  /** Work the upload started for this job (the local server); the job redeems it instead of extracting. */
  prefetch?: UploadPrefetch;
  now?: () => Date;
}

export interface IngestAttempt {
  /** 1-based attempt number. */
  attempt: number;
  /** True when the queue will not retry after this attempt. */
  final: boolean;
}

export type IngestOutcome =
  | { status: "indexed"; regionCount: number; timings: Record<string, number> }
  /** The image was deleted while its models ran: its new points were removed again. */
  | { status: "skipped"; reason: string }
  /** Failed; `retry` says whether the queue should try again. */
  | { status: "failed"; retry: boolean; error: string; errorCode: string };

export async function processIngestJob(
  deps: IngestDeps,
  job: IngestJob,
  attempt: IngestAttempt = { attempt: 1, final: true },
): Promise<IngestOutcome> {
  const now = deps.now ?? (() => new Date());
  const scope = scopeTenant(deps, job.tenant);
  const record = await scope.getImage(job.imageId);
  // Never acknowledged as done: a record this storage cannot see is retried, then dead-lettered, so
  // a misconfigured object store (or a read that lags a write) surfaces instead of waiting forever.
  if (!record) return missing("record", attempt);
  // The `processing` mark is bookkeeping (recovery re-enqueues `queued` and `processing` alike), so it
  // is written while the blob is read and the models run, and awaited before any later write of the
  // record or the points: it can never land after them, and its failure still fails the job.
  const marked = scope.putImage({
    ...record,
    status: "processing",
    attempts: attempt.attempt,
    updatedAt: now().toISOString(),
  });
  marked.catch(() => undefined); // awaited below on every path; this only stops an early rejection counting as unhandled

  try {
    const blob = await scope.getBlob(job.imageId);
    if (!blob) {
      await marked;
      const outcome = missing("bytes", attempt);
      const status = outcome.retry ? "queued" : "failed";
      await setFailed(scope, job.imageId, status, outcome.error, outcome.errorCode, now);
      return outcome;
    }
    const extracted = await (deps.prefetch?.redeem(job, blob.bytes) ??
      deps.extractor.extract(blob.bytes));
    await marked;
    const fields = userFields(record);
    const points = buildPoints(job, extracted, deps.extractor.pack, now().toISOString(), fields);
    await scope.replaceImagePoints(job.imageId, points);
    return await markIndexed(scope, job.imageId, extracted, deps.extractor.pack, now, fields);
  } catch (err) {
    await marked; // a failed mark rejects the job here, as it did before the models ran
    return await markFailure(scope, job.imageId, err, attempt, now);
  }
}

/** The image's points: the whole-image point (regionIndex −1, kind "image") then one per region. */
export function buildPoints(
  job: IngestJob,
  image: ExtractedImage,
  pack: string,
  createdAt: string,
  fields?: ImageFields,
): ScopedPoint[] {
  const common = {
    ...(fields?.name === undefined ? {} : { name: fields.name }),
    ...(fields ? { metadata: fields.metadata } : {}),
    imageId: job.imageId,
    pack,
    imageWidth: image.width,
    imageHeight: image.height,
    createdAt,
  };
  const whole: ScopedPoint = {
    id: pointId(job.tenant, job.imageId, -1, pack),
    vector: image.imageVector,
    payload: {
      ...common,
      kind: "image",
      regionIndex: -1,
      bbox: [0, 0, image.width, image.height],
      area: image.width * image.height,
      predictedIou: 1,
      stability: 1,
      mask: null,
    },
  };
  const regions = image.regions.map((r, i): ScopedPoint => ({
    id: pointId(job.tenant, job.imageId, i, pack),
    vector: r.vector,
    payload: {
      ...common,
      kind: "region",
      regionIndex: i,
      bbox: r.bbox,
      area: r.area,
      predictedIou: r.predictedIou,
      stability: r.stability,
      mask: r.mask,
    },
  }));
  return [whole, ...regions];
}

/** The name and metadata a record gives its points (docs/search.md#metadata). */
export function userFields(record: {
  name?: string;
  metadata?: ImageFields["metadata"];
}): ImageFields {
  return {
    ...(record.name === undefined ? {} : { name: record.name }),
    metadata: record.metadata ?? {},
  };
}

async function markIndexed(
  scope: TenantScope,
  imageId: string,
  extracted: ExtractedImage,
  pack: string,
  now: () => Date,
  written: ImageFields,
): Promise<IngestOutcome> {
  const current = await scope.getImage(imageId);
  if (!current) {
    // Deleted while we were extracting: remove what we just wrote so no orphan points remain.
    await scope.deleteImagePoints(imageId);
    return { status: "skipped", reason: "image deleted during ingest" };
  }
  // A PATCH of name or metadata while the job ran reached no point of this run: bring them up to date.
  const fields = userFields(current);
  if (JSON.stringify(fields) !== JSON.stringify(written))
    await scope.setImageFields(imageId, fields);
  const { error: _e, errorCode: _c, ...rest } = current;
  await scope.putImage({
    ...rest,
    status: "indexed",
    width: extracted.width,
    height: extracted.height,
    regionCount: extracted.regions.length,
    pack,
    updatedAt: now().toISOString(),
  });
  return { status: "indexed", regionCount: extracted.regions.length, timings: extracted.timings };
}

/** `image_missing`: retried until the last attempt; then final, for the queue to dead-letter. */
function missing(
  what: "record" | "bytes",
  attempt: IngestAttempt,
): Extract<IngestOutcome, { status: "failed" }> {
  return {
    status: "failed",
    retry: !attempt.final,
    error: `the image's stored ${what} could not be read (deleted, or this worker reads another object store)`,
    errorCode: IMAGE_MISSING,
  };
}

/** The error code of a job whose record or bytes this worker could not read. */
export const IMAGE_MISSING = "image_missing";

/**
 * Bad input (the decoder's ImageInputError) fails for good at once; anything else is retried by the
 * queue, the record staying `queued` with the last error until the final attempt marks it `failed`.
 */
async function markFailure(
  scope: TenantScope,
  imageId: string,
  err: unknown,
  attempt: IngestAttempt,
  now: () => Date,
): Promise<IngestOutcome> {
  const inputError = isImageInputError(err);
  const errorCode = inputError ? err.code : "ingest_failed";
  const error = err instanceof Error ? err.message : String(err);
  const retry = !inputError && !attempt.final;
  await setFailed(scope, imageId, retry ? "queued" : "failed", error, errorCode, now);
  // Failed for good: any points left are from older bytes under this id and would mislead search.
  if (!retry) await scope.deleteImagePoints(imageId);
  return { status: "failed", retry, error, errorCode };
}

async function setFailed(
  scope: TenantScope,
  imageId: string,
  status: "queued" | "failed",
  error: string,
  errorCode: string,
  now: () => Date,
): Promise<void> {
  const current = await scope.getImage(imageId);
  if (!current) return;
  await scope.putImage({ ...current, status, error, errorCode, updatedAt: now().toISOString() });
}
