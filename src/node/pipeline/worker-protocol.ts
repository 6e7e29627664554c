/** Messages between the server thread and the extractor worker (extract-worker.ts). */
import type { EmbeddedExample, ExtractedImage, RegionPrompt } from "../../lib/services.js";
import type { DecodedImage } from "../imaging/index.js";
import type { SessionOptions } from "../models/session.js";
import type { RegionExtractorOptions } from "./extractor.js";

export interface WorkerInit {
  packDir: string;
  session: SessionOptions;
  extractor: RegionExtractorOptions;
}

/** The encoded bytes, or pixels already decoded from `byteLength` bytes (an upload's, upload-prefetch.ts). */
export type WorkerRequestBody =
  | { bytes: Uint8Array }
  | { decoded: DecodedImage; byteLength: number }
  /** Query by example (example-embedder.ts): one prompted region of the image, embedded. */
  | { example: { bytes: Uint8Array; prompt: RegionPrompt } };

export type WorkerRequest = { id: number } & WorkerRequestBody;

/**
 * The Alpha-CLIP image input (`embedderImage(...).data`) of request `id`, computed on the server
 * thread while the worker runs the segmenter; the worker computes it itself when none has arrived.
 */
export interface WorkerEmbedderInput {
  id: number;
  embedderInput: Float32Array;
}

export type WorkerMessage = WorkerRequest | WorkerEmbedderInput;

export type WorkerReply =
  | { id: number; result: ExtractedImage }
  | { id: number; example: EmbeddedExample }
  | { id: number; error: { name: string; message: string; code?: string } };
