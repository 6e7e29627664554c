/** Messages between the server thread and the extractor worker (extract-worker.ts). */
import type { ExtractedImage } from "../../lib/services.js";
import type { SessionOptions } from "../models/session.js";
import type { RegionExtractorOptions } from "./extractor.js";

export interface WorkerInit {
  packDir: string;
  session: SessionOptions;
  extractor: RegionExtractorOptions;
}

export interface WorkerRequest {
  id: number;
  bytes: Uint8Array;
}

export type WorkerReply =
  | { id: number; result: ExtractedImage }
  | { id: number; error: { name: string; message: string; code?: string } };
