export { createRegionExtractor, createTextEmbedder } from "./extractor.js";
export type { RegionExtractorOptions } from "./extractor.js";
