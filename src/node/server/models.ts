/** Model wiring of the local server: pack folder → RegionExtractor + TextEmbedder. */
import type { RegionExtractor, TextEmbedder } from "../../lib/services.js";
import { loadModelPack, type ModelPack } from "../models/pack.js";
import type { SessionOptions } from "../models/session.js";
import { createRegionExtractor, createTextEmbedder, type RegionExtractorOptions } from "../pipeline/extractor.js";

export interface Models {
  pack: ModelPack;
  extractor: RegionExtractor;
  text: TextEmbedder;
}

export interface ModelOptions {
  packDir: string;
  session: SessionOptions;
  /** Decode limits, AMG overrides, embedding batch size. */
  extractor?: RegionExtractorOptions;
}

export async function loadModels(options: ModelOptions): Promise<Models> {
  const pack = await loadModelPack(options.packDir, { session: options.session });
  return { pack, extractor: createRegionExtractor(pack, options.extractor ?? {}), text: createTextEmbedder(pack) };
}
