/**
 * The local server's upload prefetch (`UploadPrefetch`, src/lib/services.ts): the upload check that
 * keeps its work for the ingest job.
 *
 * - `accept`: the full decode that refuses bad bytes before anything is stored keeps its pixels, so
 *   the job does not decode the same bytes again. When the model worker is idle, the pixels go to it
 *   at once: the upload's writes and the job's hand-off then overlap the models, and this thread
 *   computes the Alpha-CLIP input while the worker computes the segmenter's, so the two resizes run
 *   on two cores. Not when the worker is busy: in bulk, starting early would only reorder the queue,
 *   and this thread's resize would take a core from the models of the image before.
 * - The upload route files the ticket under the job it enqueues; `redeem` finds the work by that job.
 * - Everything kept is bounded (kept-uploads.ts); a job that finds nothing extracts its bytes.
 */
import type {
  AcceptedImage,
  ExtractedImage,
  IngestJob,
  PrefetchTicket,
  UploadPrefetch,
} from "../../lib/services.js";
import { decodeAccepted, verifyAccepted, type DecodedImage } from "../imaging/index.js";
import { embedderImage } from "../models/preprocess.js";
import type { EmbedderInputSpec } from "./extractor.js";
import { KeptUploads, type KeptUpload } from "./kept-uploads.js";
import type { WorkerExtractor } from "./worker-extractor.js";

/** The timings key of the Alpha-CLIP input computed on this thread, alongside the worker's segmenter preprocessing. */
export const EMBEDDER_INPUT_STAGE = "preprocess (overlapped)";

/** Encoded bytes + pixels of accepted uploads kept for their jobs (beyond it: decoded again by the job). */
const KEPT_PIXELS_BUDGET_BYTES = 64 * 1024 * 1024;

export interface UploadPrefetchOptions {
  /** Bound of the pixels kept (default KEPT_PIXELS_BUDGET_BYTES). */
  budgetBytes?: number;
  /** Extractions started early and not redeemed yet, at most (default 2). */
  maxStarted?: number;
  /** Start an accepted upload's extraction at once when the worker is idle (default true). */
  startEarly?: boolean;
  /** The pack's Alpha-CLIP input parameters: given, an early start computes that input on this thread. */
  embedder?: EmbedderInputSpec;
}

export interface LocalUploadPrefetch extends UploadPrefetch {
  /** What is kept now (tests, diagnostics). */
  readonly stats: KeptUploads["stats"];
}

const jobKey = (job: IngestJob): string => `${job.tenant}/${job.imageId}`;

/** Length first, then the bytes. */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;

/** A ticket that files nothing: the upload was verified without keeping anything. */
const NOTHING_KEPT: PrefetchTicket = { file: () => undefined };

export function createUploadPrefetch(
  worker: WorkerExtractor,
  options: UploadPrefetchOptions = {},
): LocalUploadPrefetch {
  const kept = new KeptUploads(
    options.budgetBytes ?? KEPT_PIXELS_BUDGET_BYTES,
    options.maxStarted ?? 2,
  );

  /** The pixels' extraction, posted now; with `embedder`, its Alpha-CLIP input computed here. */
  const startNow = (image: DecodedImage, byteLength: number): Promise<ExtractedImage> => {
    const extraction = worker.extractDecoded(image, byteLength);
    const spec = options.embedder;
    if (!spec) return extraction.result;
    let ms = 0;
    // On the next turn: `accept` returns first, so the upload's writes start before this resize.
    setImmediate(
      () =>
        (ms = extraction.sendEmbedderInput(
          () => embedderImage(image, spec.imageSize, spec.imageMean, spec.imageStd).data,
        )),
    );
    return extraction.result.then((r) => ({
      ...r,
      timings: { ...r.timings, [EMBEDDER_INPUT_STAGE]: ms },
    }));
  };

  const ticketFor = (entry: KeptUpload): PrefetchTicket => ({
    file: (job) => kept.file(entry, jobKey(job)),
  });

  return {
    async accept(image: AcceptedImage) {
      const size = image.bytes.byteLength + image.width * image.height * 3;
      const entry = await kept.keepPixels(image.bytes, size, () => decodeAccepted(image));
      if (!entry) {
        // Too large to keep: the same check, its pixels dropped at once; the job decodes the bytes.
        await verifyAccepted(image);
        return NOTHING_KEPT;
      }
      // Only into an idle worker (see above), and not for an entry a concurrent upload has already
      // pushed out to make room: no job could redeem it.
      const startEarly = (options.startEarly ?? true) && worker.inFlight === 0 && !entry.dropped;
      if (startEarly) kept.markStarted(entry, startNow(entry.pixels!, image.bytes.byteLength));
      return ticketFor(entry);
    },
    redeem(job, bytes) {
      const entry = kept.take(jobKey(job));
      // Found by its job; the bytes only confirm the stored image is still the accepted one (a later
      // upload under the same id may have replaced it before filing its own ticket).
      if (!entry || !sameBytes(entry.bytes, bytes)) return undefined;
      return entry.result ?? worker.extractDecoded(entry.pixels!, bytes.byteLength).result;
    },
    get stats() {
      return kept.stats;
    },
  };
}
