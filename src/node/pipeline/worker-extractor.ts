/**
 * A `RegionExtractor` that runs the model pipeline on a worker thread (extract-worker.ts), so the
 * calling thread's event loop — the HTTP server's — keeps answering while an image is processed.
 * The worker loads its own sessions of the pack's segmenter and image models; requests are
 * answered in order, one at a time (the models already use every core).
 *
 * It also verifies uploads (`verifyUpload`): the full decode that refuses bad bytes before anything
 * is stored keeps its pixels (DecodedImageCache), and the `extract` of the same bytes that follows
 * posts those pixels to the worker instead of the bytes, so each upload is decoded once, not twice.
 * When the worker is idle, the verified pixels go to it at once (EarlyExtractions): the upload's
 * writes and the job's hand-off then overlap the models. This thread then also computes the
 * Alpha-CLIP input while the worker computes the segmenter's, so the two resizes run on two cores
 * instead of one after the other. Not when the worker is busy: there this thread's work would only
 * take a core from the models of the image before.
 */
import { Worker } from "node:worker_threads";
import type { ExtractedImage, RegionExtractor } from "../../lib/services.js";
import { DecodedImageCache, decodeProbedImage, probeImage, verifyDecodable, type DecodedImage, type DecodeLimits } from "../imaging/index.js";
import { embedderImage } from "../models/preprocess.js";
import type { EmbedderInputSpec } from "./extractor.js";
import { EarlyExtractions } from "./early-extractions.js";
import type { WorkerEmbedderInput, WorkerInit, WorkerReply, WorkerRequest, WorkerRequestBody } from "./worker-protocol.js";

/** The timings key of the Alpha-CLIP input computed on this thread, alongside the worker's segmenter preprocessing. */
export const EMBEDDER_INPUT_STAGE = "preprocess (overlapped)";

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

export interface WorkerExtractorOptions {
  /** Bound of the verified pixels kept (default VERIFIED_PIXELS_BUDGET_BYTES). */
  budgetBytes?: number;
  /** Start a verified upload's extraction at once when the worker is idle (default true). */
  startEarly?: boolean;
  /** The pack's Alpha-CLIP input parameters: given, that input is computed on this thread. */
  embedder?: EmbedderInputSpec;
}

export interface WorkerExtractor extends UploadVerifyingExtractor {
  /** Verified uploads whose pixels wait for their extraction, and the bytes they hold. */
  readonly verifiedPixels: { entries: number; bytes: number };
  /** Extractions started at upload time and not yet claimed by a job. */
  readonly earlyExtractions: number;
  close(): Promise<void>;
}

/** Rebuilds an error from the worker with its `code`, so input errors still map to 4xx. */
function reviveError(e: { name: string; message: string; code?: string }): Error {
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

export function createWorkerExtractor(pack: string, init: WorkerInit, options: WorkerExtractorOptions = {}): WorkerExtractor {
  const verified = new DecodedImageCache(options.budgetBytes ?? VERIFIED_PIXELS_BUDGET_BYTES);
  const early = new EarlyExtractions();
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

  /** `splitPreprocess`: compute the Alpha-CLIP input here, for an idle worker only (see the file comment). */
  const post = (body: WorkerRequestBody, splitPreprocess = false): Promise<ExtractedImage> => {
    const id = nextId++;
    const result = new Promise<ExtractedImage>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      // A copy is posted: the caller keeps its buffer (it may be the stored blob).
      worker.postMessage({ id, ...body } satisfies WorkerRequest);
    });
    const { embedder } = options;
    if (!(splitPreprocess && "decoded" in body && embedder)) return result;
    // On the next turn: the caller (the upload's check) returns first and its writes start.
    let ms = 0;
    setImmediate(() => (ms = postEmbedderInput(id, body.decoded, embedder)));
    return result.then((r) => ({ ...r, timings: { ...r.timings, [EMBEDDER_INPUT_STAGE]: ms } }));
  };
  /** After the request, so the worker computes the segmenter's input meanwhile; returns its ms. */
  const postEmbedderInput = (id: number, image: DecodedImage, spec: EmbedderInputSpec): number => {
    const t = performance.now();
    const { data } = embedderImage(image, spec.imageSize, spec.imageMean, spec.imageStd);
    if (pending.has(id)) worker.postMessage({ id, embedderInput: data } satisfies WorkerEmbedderInput, [data.buffer as ArrayBuffer]);
    return performance.now() - t;
  };

  return {
    pack,
    extract(bytes) {
      const started = early.take(bytes);
      if (started) return started;
      const decoded = verified.take(bytes);
      return post(decoded ? { decoded, byteLength: bytes.byteLength } : { bytes });
    },
    async verifyUpload(bytes, limits) {
      const probe = await probeImage(bytes, limits);
      const kept = await verified.keep(bytes, probe.width, probe.height, () => decodeProbedImage(bytes, probe, limits));
      // Too large to keep: the streaming check, whose memory stays flat whatever the size.
      if (!kept) return verifyDecodable(bytes, limits);
      // Only into an idle worker: in bulk, starting early would just reorder the queue's jobs.
      const decoded = (options.startEarly ?? true) && pending.size === 0 ? verified.take(bytes) : undefined;
      if (decoded) early.add(bytes, post({ decoded, byteLength: bytes.byteLength }, true));
    },
    get verifiedPixels() {
      return verified.stats;
    },
    get earlyExtractions() {
      return early.size;
    },
    async close() {
      await worker.terminate();
    },
  };
}
