/** Model wiring of the local server: pack folder → RegionExtractor + TextEmbedder. */
import type { AmgParamsOverrides } from "../../lib/amg/params.js";
import type {
  ExampleEmbedder,
  RegionExtractor,
  TextEmbedder,
  UploadPrefetch,
} from "../../lib/services.js";
import { loadModelPack, type ModelPack } from "../models/pack.js";
import type { ExecutionProvider, SessionOptions } from "../models/session.js";
import {
  createRegionExtractor,
  createTextEmbedder,
  type RegionExtractorOptions,
} from "../pipeline/extractor.js";
import { createExampleEmbedder } from "../pipeline/example-embedder.js";
import { createUploadPrefetch } from "../pipeline/upload-prefetch.js";
import { createWorkerExtractor } from "../pipeline/worker-extractor.js";

export interface Models {
  pack: ModelPack;
  extractor: RegionExtractor;
  text: TextEmbedder;
  /** Query by example, on the same thread (the worker's, by default) as the extractor. */
  examples: ExampleEmbedder;
  /** With the worker thread: the upload check that hands its pixels to that worker (upload-prefetch.ts). */
  prefetch?: UploadPrefetch;
  /** Releases every session (and the extractor's worker thread). */
  release(): Promise<void>;
}

export interface ModelOptions {
  packDir: string;
  session: SessionOptions;
  /** Decode limits, AMG overrides, embedding batch size. */
  extractor?: RegionExtractorOptions;
  /**
   * Run ingestion's models on a worker thread (default true). onnxruntime-node blocks the calling
   * thread during inference, so a server that extracts on its own thread stops answering searches
   * while it ingests; benchmarks of the models alone may turn this off.
   */
  extractorThread?: boolean;
}

/** The env keys both entries (local server, Node functions) turn into extractor options. */
export interface ExtractorEnv {
  MAX_UPLOAD_BYTES: number;
  MAX_PIXELS: number;
  MAX_SIDE: number;
  AMG_OVERRIDES?: AmgParamsOverrides | undefined;
}

/** Extractor options from the parsed environment: decode limits, and AMG overrides when set. */
export function extractorOptionsFromEnv(env: ExtractorEnv): RegionExtractorOptions {
  return {
    limits: {
      maxUploadBytes: env.MAX_UPLOAD_BYTES,
      maxPixels: env.MAX_PIXELS,
      maxSide: env.MAX_SIDE,
    },
    ...(env.AMG_OVERRIDES ? { amg: env.AMG_OVERRIDES } : {}),
  };
}

/** The env keys both entries turn into onnxruntime session options. */
export interface SessionEnv {
  ORT_INTRA_OP_THREADS: number;
  ORT_INTER_OP_THREADS: number;
  ORT_ALLOW_SPINNING: boolean;
  ORT_EXECUTION_PROVIDER: ExecutionProvider;
}

export function sessionOptionsFromEnv(env: SessionEnv): SessionOptions {
  return {
    intraOpNumThreads: env.ORT_INTRA_OP_THREADS,
    interOpNumThreads: env.ORT_INTER_OP_THREADS,
    allowSpinning: env.ORT_ALLOW_SPINNING,
    executionProvider: env.ORT_EXECUTION_PROVIDER,
  };
}

export async function loadModels(options: ModelOptions): Promise<Models> {
  const threaded = options.extractorThread ?? true;
  // With the worker, this thread needs only the text tower; the worker loads the rest itself.
  const pack = await loadModelPack(options.packDir, {
    session: options.session,
    ...(threaded ? { roles: ["text"] as const } : {}),
  });
  const text = createTextEmbedder(pack);
  if (!threaded) {
    return {
      pack,
      text,
      extractor: createRegionExtractor(pack, options.extractor ?? {}),
      examples: createExampleEmbedder(pack, options.extractor ?? {}),
      release: () => pack.release(),
    };
  }
  const extractor = createWorkerExtractor(pack.id, {
    packDir: options.packDir,
    session: options.session,
    extractor: options.extractor ?? {},
  });
  const { imageSize, imageMean, imageStd } = pack.manifest.embedder;
  const prefetch = createUploadPrefetch(extractor, {
    embedder: { imageSize, imageMean, imageStd },
  });
  return {
    pack,
    text,
    extractor,
    examples: extractor,
    prefetch,
    release: async () => {
      await extractor.close();
      await pack.release();
    },
  };
}
