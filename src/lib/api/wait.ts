/**
 * `?wait=true` support: wait until an image's job settles. The in-process queue can tell us directly
 * (`JobQueue.waitFor`); remote queues cannot, so we fall back to polling the catalog with backoff.
 */
import { ApiError, ERROR_STATUS, type ErrorCode } from "../errors.js";
import type { ImageRecord } from "../services.js";
import type { TenantScope } from "../tenant-scope.js";

const settled = (r: ImageRecord | null): boolean =>
  !r || r.status === "indexed" || r.status === "failed";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The record once indexed/failed, or its latest state when `timeoutMs` ran out (null if deleted). */
async function waitForImage(
  scope: TenantScope,
  id: string,
  timeoutMs: number,
): Promise<ImageRecord | null> {
  const deadline = Date.now() + timeoutMs;
  if (await scope.waitForJob(id, timeoutMs)) return scope.getImage(id);
  let delay = 50;
  for (;;) {
    const record = await scope.getImage(id);
    const left = deadline - Date.now();
    if (settled(record) || left <= 0) return record;
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, 1000);
  }
}

/** The record after waiting: indexed, or still in progress (timed out); a failure is thrown. */
export async function settledRecord(
  scope: TenantScope,
  id: string,
  timeoutMs: number,
): Promise<ImageRecord> {
  const record = await waitForImage(scope, id, timeoutMs);
  if (!record) throw ApiError.notFound(`Image ${id}`);
  if (record.status === "failed") throw failureError(record);
  return record;
}

function failureError(record: ImageRecord): ApiError {
  const code =
    record.errorCode && record.errorCode in ERROR_STATUS
      ? (record.errorCode as ErrorCode)
      : "ingest_failed";
  return new ApiError(code, `Indexing failed: ${record.error ?? "unknown error"}`);
}
