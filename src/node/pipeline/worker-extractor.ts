/**
 * A `RegionExtractor` that runs the model pipeline on a worker thread (extract-worker.ts), so the
 * calling thread's event loop — the HTTP server's — keeps answering while an image is processed.
 * The worker loads its own sessions of the pack's segmenter and image models; requests are
 * answered in order, one at a time (the models already use every core).
 *
 * It also verifies uploads (`verifyUpload`): the full decode that refuses bad bytes before anything
 * is stored keeps its pixels (DecodedImageCache), and the `extract` of the same bytes that follows
 * posts those pixels to the worker instead of the bytes, so each upload is decoded once, not twice.
 */
import { Worker } from "node:worker_threads";
import type { ExtractedImage, RegionExtractor } from "../../lib/services.js";
import { DecodedImageCache, decodeProbedImage, probeImage, verifyDecodable, type DecodeLimits } from "../imaging/index.js";
import type { WorkerInit, WorkerReply, WorkerRequest } from "./worker-protocol.js";

/** Encoded bytes + pixels of verified uploads kept for their extraction (beyond it: decoded again). */
export const VERIFIED_PIXELS_BUDGET_BYTES = 64 * 1024 * 1024;

/** An extractor that can also be the upload verifier, decoding each upload only once. */
export interface UploadVerifyingExtractor extends RegionExtractor {
  /**
   * Throws `ImageInputError` exactly when the bytes would not decode under `limits` (as
   * `verifyDecodable`), and keeps the pixels for a following `extract` of equal bytes.
   */
  verifyUpload(bytes: Uint8Array, limits: Partial<DecodeLimits>): Promise<void>;
}

export function canVerifyUploads(extractor: RegionExtractor): extractor is UploadVerifyingExtractor {
  return typeof (extractor as Partial<UploadVerifyingExtractor>).verifyUpload === "function";
}

export interface WorkerExtractor extends UploadVerifyingExtractor {
  /** Verified uploads whose pixels wait for their extraction, and the bytes they hold. */
  readonly verifiedPixels: { entries: number; bytes: number };
  close(): Promise<void>;
}

/** Rebuilds an error from the worker with its `code`, so input errors still map to 4xx. */
function reviveError(e: { name: string; message: string; code?: string }): Error {
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

export function createWorkerExtractor(pack: string, init: WorkerInit, budgetBytes = VERIFIED_PIXELS_BUDGET_BYTES): WorkerExtractor {
  const verified = new DecodedImageCache(budgetBytes);
  const worker = new Worker(new URL("./extract-worker-boot.mjs", import.meta.url), { workerData: init });
  const pending = new Map<number, { resolve: (r: ExtractedImage) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on("message", (reply: WorkerReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if ("error" in reply) p.reject(reviveError(reply.error));
    else p.resolve(reply.result);
  });
  worker.on("error", (err) => failAll(err));
  worker.on("exit", (code) => failAll(new Error(`extractor worker exited with code ${code}`)));

  return {
    pack,
    extract(bytes) {
      const id = nextId++;
      const decoded = verified.take(bytes);
      const request: WorkerRequest = decoded ? { id, decoded, byteLength: bytes.byteLength } : { id, bytes };
      return new Promise<ExtractedImage>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // A copy is posted: the caller keeps its buffer (it may be the stored blob).
        worker.postMessage(request);
      });
    },
    async verifyUpload(bytes, limits) {
      const probe = await probeImage(bytes, limits);
      const kept = await verified.keep(bytes, probe.width, probe.height, () => decodeProbedImage(bytes, probe, limits));
      // Too large to keep: the streaming check, whose memory stays flat whatever the size.
      if (!kept) await verifyDecodable(bytes, limits);
    },
    get verifiedPixels() {
      return verified.stats;
    },
    async close() {
      await worker.terminate();
    },
  };
}
