/**
 * Model wiring of the local server: pack folder → RegionExtractor + TextEmbedder.
 *
 * >>> WIRING PENDING: `src/node/pipeline/extractor.ts` (createRegionExtractor / createTextEmbedder)
 * >>> was not in the tree when this was written. It is imported dynamically through a variable so this
 * >>> file compiles against the interfaces declared in src/lib/services.ts; once the module exists,
 * >>> replace `loadPipelineModule` with a static `import { createRegionExtractor, createTextEmbedder }
 * >>> from "../pipeline/extractor.js"` and drop the cast.
 */
import type { RegionExtractor, TextEmbedder } from "../../lib/services.js";
import { loadModelPack, type ModelPack } from "../models/pack.js";
import type { SessionOptions } from "../models/session.js";

interface PipelineModule {
  createRegionExtractor(pack: ModelPack, opts?: Record<string, unknown>): RegionExtractor | Promise<RegionExtractor>;
  createTextEmbedder(pack: ModelPack): TextEmbedder | Promise<TextEmbedder>;
}

export interface Models {
  pack: ModelPack;
  extractor: RegionExtractor;
  text: TextEmbedder;
}

export interface ModelOptions {
  packDir: string;
  session: SessionOptions;
  /** Passed to createRegionExtractor (decode limits etc.). */
  extractor?: Record<string, unknown>;
}

async function loadPipelineModule(): Promise<PipelineModule> {
  const specifier = "../pipeline/extractor.js";
  try {
    return (await import(specifier)) as PipelineModule;
  } catch (err) {
    throw new Error(`model pipeline module ${specifier} is missing or failed to load`, { cause: err });
  }
}

export async function loadModels(options: ModelOptions): Promise<Models> {
  const pack = await loadModelPack(options.packDir, { session: options.session });
  const pipeline = await loadPipelineModule();
  const extractor = await pipeline.createRegionExtractor(pack, options.extractor ?? {});
  const text = await pipeline.createTextEmbedder(pack);
  return { pack, extractor, text };
}
