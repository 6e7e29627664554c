/**
 * Splitting writes under Qdrant's request size cap. Qdrant refuses a body over
 * `service.max_request_size_mb` (32 MB by default, qdrant config/config.yaml); we keep each request
 * under half of it, so a deployment that lowered the cap a little, or JSON that grew on the way,
 * still fits. Points carry masks and vectors of very different sizes, so a count alone cannot bound
 * a request: batches are cut by the count (`batchSize`) and by the bytes, whichever comes first.
 */
import type { Schemas } from "@qdrant/js-client-rest";

/** Bytes of point JSON per request at most (Qdrant's default cap is 32 MB). */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

const utf8 = new TextEncoder();

/** UTF-8 bytes of `value` as JSON (TextEncoder: src/lib runs on Workers too, where there is no Buffer). */
export function jsonBytes(value: unknown): number {
  return utf8.encode(JSON.stringify(value)).length;
}

/**
 * `points` cut into consecutive runs of at most `maxCount` points and `maxBytes` bytes of JSON
 * (a single point larger than `maxBytes` travels alone: Qdrant's answer then names the problem).
 */
export function chunkPoints(
  points: readonly Schemas["PointStruct"][],
  maxCount: number,
  maxBytes = MAX_REQUEST_BYTES,
): Schemas["PointStruct"][][] {
  const out: Schemas["PointStruct"][][] = [];
  let run: Schemas["PointStruct"][] = [];
  let bytes = 0;
  for (const p of points) {
    const size = jsonBytes(p) + 1;
    if (run.length && (run.length >= maxCount || bytes + size > maxBytes)) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(p);
    bytes += size;
  }
  if (run.length) out.push(run);
  return out;
}
