/**
 * Automatic mask generation (segment-anything's `SamAutomaticMaskGenerator.generate`), driven
 * through a pack's segmenter. Per crop: encode once; grid points in batches of `pointsPerBatch`
 * through the decoder; predicted-IoU filter; stability score and box of each mask as SAM computes
 * them on the upsampled mask, read from the low-res logits without upsampling it
 * (src/lib/amg/filter.ts); crop-edge filter; box NMS. Across crops: NMS preferring smaller crops.
 * Only survivors are upsampled to original pixels (inside their known box); then SAM's optional
 * small-region clean-up. Regions come back best predicted IoU first.
 */
import { generateCropBoxes, isBoxNearCropEdge, uncropMaskRowMajor } from "../../lib/amg/crops.js";
import { filterDecoderBatch, selectByNms } from "../../lib/amg/filter.js";
import { buildAllLayerPointGrids } from "../../lib/amg/grid.js";
import type { AmgParams } from "../../lib/amg/params.js";
import { removeSmallRegionsRowMajor } from "../../lib/amg/small-regions.js";
import { boxAreaXyxy, maskBoxAndAreaInWindowRowMajor, maskToBoxXyxyRowMajor } from "../../lib/masks/boxes.js";
import { nmsXyxy } from "../../lib/masks/nms.js";
import { upsampleLowResLogitsToMask } from "../../lib/masks/resize.js";
import type { BoxXyxy } from "../../lib/masks/types.js";
import type { RgbImage } from "./preprocess.js";
import type { DecodedBatch, ImageEncoding, Segmenter } from "./segmenter.js";
import { addTime, type StageTimings } from "./timings.js";

/** One region found by AMG, at original resolution. */
export interface AmgRegion {
  /** Row-major `[H, W]` 0/1 mask. */
  mask: Uint8Array;
  /** Tight box of `mask`, INCLUSIVE max coordinates (SAM's `batched_mask_to_box`). */
  boxXyxy: BoxXyxy;
  /** Foreground pixel count. */
  area: number;
  predictedIou: number;
  stability: number;
}

/** A mask that survived its crop's filters, kept as low-res logits until the final upsample. */
interface Survivor {
  /** `[lowH, lowW]` logits of this mask (a copy). */
  logits: Float32Array;
  lowH: number;
  lowW: number;
  encoding: ImageEncoding;
  cropBox: BoxXyxy;
  /** Tight box of the upsampled mask in IMAGE pixels, inclusive (SAM's box). */
  box: BoxXyxy;
  /** The same box in the crop's pixels. */
  cropLocalBox: BoxXyxy;
  predictedIou: number;
  stability: number;
}

export async function generateMasks(
  segmenter: Segmenter,
  image: RgbImage,
  params: AmgParams,
  maskThreshold: number,
  timings: StageTimings,
): Promise<AmgRegion[]> {
  const { height: h, width: w } = image;
  const { boxes: cropBoxes, layerIdxs } = generateCropBoxes(h, w, params.cropNLayers, params.cropOverlapRatio);
  const grids = buildAllLayerPointGrids(params.pointsPerSide, params.cropNLayers, params.cropNPointsDownscaleFactor);
  let survivors: Survivor[] = [];
  for (let k = 0; k < cropBoxes.length; k++) {
    survivors.push(...(await processCrop(segmenter, image, cropBoxes[k]!, grids[layerIdxs[k]!]!, params, maskThreshold, timings)));
  }
  if (cropBoxes.length > 1) {
    const t0 = performance.now();
    survivors = crossCropNms(survivors, params.cropNmsThresh);
    addTime(timings, "filter", t0);
  }
  const t1 = performance.now();
  let regions = survivors.map((s) => upsample(s, segmenter.imageSize, maskThreshold, h, w)).filter((r) => r.area > 0);
  addTime(timings, "upsample", t1);
  if (params.minMaskRegionArea > 0) {
    const t2 = performance.now();
    // SAM's threshold for the clean-up's NMS: the larger of the within- and across-crop ones.
    const nmsThresh = Math.max(params.boxNmsThresh, params.cropNmsThresh);
    regions = removeSmallRegions(regions, params.minMaskRegionArea, nmsThresh, h, w);
    addTime(timings, "postprocess", t2);
  }
  // Cross-crop NMS (smaller crops first) and the clean-up's NMS (unchanged masks first) reorder;
  // callers (maxRegions, the result order) rely on best predicted IoU first. Stable: ties keep order.
  return regions.sort((a, b) => b.predictedIou - a.predictedIou);
}

/** SAM's `_process_crop`: encode the crop, run every grid point, filter, NMS within the crop. */
async function processCrop(
  segmenter: Segmenter, image: RgbImage, cropBox: BoxXyxy, grid: Float32Array,
  params: AmgParams, maskThreshold: number, timings: StageTimings,
): Promise<Survivor[]> {
  const encoding = await segmenter.encode(cropImage(image, cropBox), timings);
  const { height: ch, width: cw, geometry: g } = encoding;
  const points = new Float32Array(grid.length);
  for (let i = 0; i < grid.length; i += 2) {
    // SAM: grid · crop size (crop pixels), then apply_coords to the resized frame.
    points[i] = grid[i]! * cw * (g.resizedW / cw);
    points[i + 1] = grid[i + 1]! * ch * (g.resizedH / ch);
  }
  const kept: Survivor[] = [];
  const nPoints = grid.length / 2;
  for (let start = 0; start < nPoints; start += params.pointsPerBatch) {
    const end = Math.min(nPoints, start + params.pointsPerBatch);
    const t1 = performance.now();
    const batch = await segmenter.decode(encoding, points.subarray(start * 2, end * 2));
    addTime(timings, "decoder", t1);
    const t2 = performance.now();
    kept.push(...filterBatch(batch, encoding, cropBox, [0, 0, image.width, image.height], params, maskThreshold, segmenter.imageSize));
    addTime(timings, "filter", t2);
  }
  const t3 = performance.now();
  const local = selectByNms(kept, kept.map((s) => s.box), params.boxNmsThresh);
  addTime(timings, "filter", t3);
  return local;
}

/** `image[y0:y1, x0:x1]` as its own RGB image (the image itself for the full-image crop). */
function cropImage(image: RgbImage, [x0, y0, x1, y1]: BoxXyxy): RgbImage {
  if (x0 === 0 && y0 === 0 && x1 === image.width && y1 === image.height) return image;
  const cw = x1 - x0, ch = y1 - y0, data = new Uint8Array(cw * ch * 3);
  for (let y = 0; y < ch; y++) data.set(image.data.subarray(((y + y0) * image.width + x0) * 3, ((y + y0) * image.width + x1) * 3), y * cw * 3);
  return { width: cw, height: ch, data };
}

/** SAM's multimask outputs are masks 1..M−1 (index 0 is the single-mask output). */
function multimaskIndices(m: number): number[] {
  return m > 1 ? Array.from({ length: m - 1 }, (_, i) => i + 1) : [0];
}

/**
 * Filters of SAM's `_process_batch` on one decoder batch (predicted IoU, stability and box on the
 * upsampled masks: src/lib/amg/filter.ts), then the crop-edge filter on those boxes.
 */
function filterBatch(
  batch: DecodedBatch, encoding: ImageEncoding, cropBox: BoxXyxy, imageBox: BoxXyxy,
  params: AmgParams, maskThreshold: number, S: number,
): Survivor[] {
  const { batchSize: b, masksPerPrompt: m, lowH, lowW, lowResLogits } = batch;
  const { resizedH, resizedW } = encoding.geometry;
  const geometry = { lowH, lowW, paddedSize: S, resizedH, resizedW, outH: encoding.height, outW: encoding.width };
  const candidates = filterDecoderBatch(batch.iouPredictions, lowResLogits, { batchSize: b, masksPerPrompt: m }, geometry, multimaskIndices(m), params, maskThreshold);
  const plane = lowH * lowW;
  const out: Survivor[] = [];
  for (const c of candidates) {
    const local = c.boxXyxy;
    if (isBoxNearCropEdge(local, cropBox, imageBox)) continue;
    out.push({
      logits: lowResLogits.slice(c.logitsOffset, c.logitsOffset + plane),
      lowH, lowW, encoding, cropBox,
      box: [local[0] + cropBox[0], local[1] + cropBox[1], local[2] + cropBox[0], local[3] + cropBox[1]],
      cropLocalBox: local,
      predictedIou: c.predictedIou,
      stability: c.stability,
    });
  }
  return out;
}

/** SAM: across crops, NMS scored by 1 / crop area (masks from smaller crops win). */
function crossCropNms(survivors: Survivor[], threshold: number): Survivor[] {
  const boxes = Float32Array.from(survivors.flatMap((s) => s.box));
  const scores = Float32Array.from(survivors, (s) => 1 / boxAreaXyxy(s.cropBox));
  return nmsXyxy(boxes, scores, threshold).map((i) => survivors[i]!);
}

function upsample(s: Survivor, S: number, maskThreshold: number, h: number, w: number): AmgRegion {
  const { resizedH, resizedW } = s.encoding.geometry;
  const { height, width } = s.encoding;
  // Every positive pixel lies in the mask's box, known exactly from filtering: upsample only it.
  const window = s.cropLocalBox;
  const local = upsampleLowResLogitsToMask(s.logits, s.lowH, s.lowW, S, resizedH, resizedW, height, width, maskThreshold, window);
  const mask = uncropMaskRowMajor(local, s.cropBox, h, w);
  // Every positive pixel lies in the window, so box and area need only read it, not the image.
  const [cx, cy] = s.cropBox;
  const { box, area } = maskBoxAndAreaInWindowRowMajor(mask, h, w, [window[0] + cx, window[1] + cy, window[2] + cx, window[3] + cy]);
  return { mask, boxXyxy: box, area, predictedIou: s.predictedIou, stability: s.stability };
}

function countOnes(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]! !== 0 ? 1 : 0;
  return n;
}

/**
 * SAM's `postprocess_small_regions`: fill small holes, drop small islands; a changed mask scores 0,
 * an unchanged one 1, and NMS on the new boxes prefers unchanged masks.
 */
function removeSmallRegions(regions: AmgRegion[], minArea: number, nmsThresh: number, h: number, w: number): AmgRegion[] {
  const cleaned = regions.map((r) => {
    const holes = removeSmallRegionsRowMajor(r.mask, h, w, minArea, "holes");
    const islands = removeSmallRegionsRowMajor(holes.mask, h, w, minArea, "islands");
    const changed = holes.changed || islands.changed;
    const mask = islands.mask;
    const region = changed ? { ...r, mask, boxXyxy: maskToBoxXyxyRowMajor(mask, h, w), area: countOnes(mask) } : r;
    return { region, score: changed ? 0 : 1 };
  });
  const boxes = Float32Array.from(cleaned.flatMap((c) => c.region.boxXyxy));
  const scores = Float32Array.from(cleaned, (c) => c.score);
  return nmsXyxy(boxes, scores, nmsThresh).map((i) => cleaned[i]!.region).filter((r) => r.area > 0);
}
