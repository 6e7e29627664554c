/** Messages between the server thread and the extractor worker (extract-worker.ts). */
import type { ExtractedImage } from "../../lib/services.js";
import type { DecodedImage } from "../imaging/index.js";
import type { SessionOptions } from "../models/session.js";
import type { RegionExtractorOptions } from "./extractor.js";

export interface WorkerInit {
  packDir: string;
  session: SessionOptions;
  extractor: RegionExtractorOptions;
}

/** The encoded bytes, or the pixels the upload verifier already decoded from `byteLength` bytes. */
export type WorkerRequest =
  | { id: number; bytes: Uint8Array }
  | { id: number; decoded: DecodedImage; byteLength: number };

export type WorkerReply =
  | { id: number; result: ExtractedImage }
  | { id: number; error: { name: string; message: string; code?: string } };
