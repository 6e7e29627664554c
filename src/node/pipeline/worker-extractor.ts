/**
 * A `RegionExtractor` that runs the model pipeline on a worker thread (extract-worker.ts), so the
 * calling thread's event loop — the HTTP server's — keeps answering while an image is processed.
 * The worker loads its own sessions of the pack's segmenter and image models; requests are
 * answered in order, one at a time (the models already use every core).
 */
import { Worker } from "node:worker_threads";
import type { ExtractedImage, RegionExtractor } from "../../lib/services.js";
import type { WorkerInit, WorkerReply } from "./worker-protocol.js";

export interface WorkerExtractor extends RegionExtractor {
  close(): Promise<void>;
}

/** Rebuilds an error from the worker with its `code`, so input errors still map to 4xx. */
function reviveError(e: { name: string; message: string; code?: string }): Error {
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

export function createWorkerExtractor(pack: string, init: WorkerInit): WorkerExtractor {
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
      return new Promise<ExtractedImage>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // A copy is posted: the caller keeps its buffer (it may be the stored blob).
        worker.postMessage({ id, bytes });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}
