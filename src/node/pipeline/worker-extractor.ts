/**
 * A `RegionExtractor` that runs the model pipeline on a worker thread (extract-worker.ts), so the
 * calling thread's event loop — the HTTP server's — keeps answering while an image is processed.
 * The worker loads its own sessions of the pack's segmenter and image models; requests are
 * answered in order, one at a time (the models already use every core).
 *
 * Besides encoded bytes it takes pixels decoded on this thread (`extractDecoded`), and for those the
 * Alpha-CLIP input computed here while the worker computes the segmenter's: the upload prefetch
 * (upload-prefetch.ts) uses both. The messages are worker-protocol.ts.
 */
import { Worker } from "node:worker_threads";
import type {
  EmbeddedExample,
  ExampleEmbedder,
  ExtractedImage,
  RegionExtractor,
} from "../../lib/services.js";
import type { DecodedImage } from "../imaging/index.js";
import type {
  WorkerEmbedderInput,
  WorkerInit,
  WorkerReply,
  WorkerRequest,
  WorkerRequestBody,
} from "./worker-protocol.js";

/** One `extractDecoded` request in the worker. */
export interface DecodedExtraction {
  readonly result: Promise<ExtractedImage>;
  /**
   * Computes the Alpha-CLIP input of the request's pixels (`embedderImage(...).data` with the pack's
   * parameters) with `make` and sends it, for the worker to use instead of computing it; does nothing
   * once the request is answered. Returns the ms `make` took (0 when it did not run).
   */
  sendEmbedderInput(make: () => Float32Array): number;
}

export interface WorkerExtractor extends RegionExtractor {
  /** Requests posted and not answered yet: 0 when the worker is idle. */
  readonly inFlight: number;
  /**
   * `extract` for pixels already decoded from `byteLength` bytes (`decodeAccepted`): the worker
   * checks its own limits on the sizes and runs the same pipeline, so the result equals `extract(bytes)`.
   */
  extractDecoded(image: DecodedImage, byteLength: number): DecodedExtraction;
  close(): Promise<void>;
}

/** Rebuilds an error from the worker with its `code`, so input errors still map to 4xx. */
function reviveError(e: { name: string; message: string; code?: string }): Error {
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

export function createWorkerExtractor(
  pack: string,
  init: WorkerInit,
): WorkerExtractor & ExampleEmbedder {
  const worker = new Worker(new URL("./extract-worker-boot.mjs", import.meta.url), {
    workerData: init,
  });
  const pending = new Map<
    number,
    { resolve: (r: ExtractedImage | EmbeddedExample) => void; reject: (e: Error) => void }
  >();
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
    else p.resolve("example" in reply ? reply.example : reply.result);
  });
  worker.on("error", (err) => failAll(err));
  worker.on("exit", (code) => failAll(new Error(`extractor worker exited with code ${code}`)));

  const post = <R extends ExtractedImage | EmbeddedExample>(
    id: number,
    body: WorkerRequestBody,
  ): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      pending.set(id, {
        resolve: resolve as (r: ExtractedImage | EmbeddedExample) => void,
        reject,
      });
      // A copy is posted: the caller keeps its buffer (it may be the stored blob).
      worker.postMessage({ id, ...body } satisfies WorkerRequest);
    });

  return {
    pack,
    extract: (bytes) => post<ExtractedImage>(nextId++, { bytes }),
    // Queued behind ingestion on the same worker: one model run at a time (see extract-worker.ts).
    embedExample: (bytes, prompt) =>
      post<EmbeddedExample>(nextId++, { example: { bytes, prompt } }),
    extractDecoded(decoded, byteLength) {
      const id = nextId++;
      const result = post<ExtractedImage>(id, { decoded, byteLength });
      const sendEmbedderInput = (make: () => Float32Array): number => {
        if (!pending.has(id)) return 0;
        const t = performance.now();
        const embedderInput = make();
        const ms = performance.now() - t;
        // Transferred, not copied: this thread has no further use for it.
        worker.postMessage({ id, embedderInput } satisfies WorkerEmbedderInput, [
          embedderInput.buffer as ArrayBuffer,
        ]);
        return ms;
      };
      return { result, sendEmbedderInput };
    },
    get inFlight() {
      return pending.size;
    },
    async close() {
      await worker.terminate();
    },
  };
}
