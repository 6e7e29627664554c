/**
 * Worker-thread entry of the region extractor. onnxruntime-node's `session.run` blocks the thread
 * that calls it for the whole inference, so the local server runs ingestion here and keeps its
 * event loop free for searches. Protocol (worker-protocol.ts): `workerData` = init options; messages
 * `{id, bytes}` (or `{id, decoded, byteLength}`: an upload's pixels, decoded by the upload prefetch,
 * then possibly `{id, embedderInput}`; or `{id, example}`: query by example) in, `{id, result}` or `{id, error}` out (vectors' buffers
 * transferred, not copied).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ExtractedImage } from "../../lib/services.js";
import { extractionRoles, loadModelPack } from "../models/pack.js";
import { createExampleEmbedder } from "./example-embedder.js";
import { createRegionExtractor } from "./extractor.js";
import type { WorkerInit, WorkerMessage, WorkerReply, WorkerRequest } from "./worker-protocol.js";

const init = workerData as WorkerInit;
const port = parentPort!;

const ready = loadModelPack(init.packDir, { session: init.session, roles: extractionRoles }).then(
  (pack) => ({
    extractor: createRegionExtractor(pack, init.extractor),
    examples: createExampleEmbedder(pack, init.extractor),
  }),
);

function transferables(result: ExtractedImage): ArrayBuffer[] {
  return [result.imageVector, ...result.regions.map((r) => r.vector)].map(
    (v) => v.buffer as ArrayBuffer,
  );
}

/** Alpha-CLIP inputs sent by the server thread, by request id, until their request takes them. */
const embedderInputs = new Map<number, Float32Array>();
/** Requests are answered in id order: an input for an id at or below this one came too late. */
let lastDone = -1;

async function handle(request: WorkerRequest): Promise<void> {
  const { id } = request;
  try {
    const { extractor, examples } = await ready;
    if ("example" in request) {
      const { bytes, prompt } = request.example;
      const example = await examples.embedExample(bytes, prompt);
      port.postMessage({ id, example } satisfies WorkerReply, [
        example.vector.buffer as ArrayBuffer,
      ]);
      return;
    }
    const given = () => embedderInputs.get(id);
    const result =
      "decoded" in request
        ? await extractor.extractDecoded(request.decoded, request.byteLength, given)
        : await extractor.extract(request.bytes);
    port.postMessage({ id, result } satisfies WorkerReply, transferables(result));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    port.postMessage({
      id,
      error: { name: e.name, message: e.message, ...(typeof code === "string" ? { code } : {}) },
    } satisfies WorkerReply);
  } finally {
    embedderInputs.delete(id);
    lastDone = id;
  }
}

// One extraction at a time, in arrival order. Each await inside `extract` (decode, every model
// call) would otherwise let the next request start, interleaving two images' stages: no faster
// (the models already use every core), but twice the memory and each image's latency doubled.
let queue: Promise<void> = Promise.resolve();
port.on("message", (message: WorkerMessage) => {
  if ("embedderInput" in message) {
    if (message.id > lastDone) embedderInputs.set(message.id, message.embedderInput);
    return;
  }
  queue = queue.then(() => handle(message));
});

// Start-up failures (bad pack) surface on the first request rather than as an unhandled rejection.
ready.catch(() => undefined);
