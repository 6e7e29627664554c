export { buildAllLayerPointGrids, buildPointGrid } from "./grid.js";
export { generateCropBoxes, isBoxNearCropEdge, uncropBoxXyxy, uncropMaskRowMajor, uncropPoints } from "./crops.js";
export { stabilityScore, stabilityScorePlane } from "./stability.js";
export { removeSmallRegionsRowMajor } from "./small-regions.js";
export { amgParamsSchema, resolveAmgParams, SAM_AMG_DEFAULTS } from "./params.js";
export type { AmgParams, AmgParamsOverrides } from "./params.js";
export { filterDecoderBatch, selectByNms } from "./filter.js";
export type { DecoderBatchLayout, MaskCandidate } from "./filter.js";
