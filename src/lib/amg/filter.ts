/**
 * Per-decoder-batch filtering for automatic mask generation, as SAM's `_process_batch`: the
 * predicted-IoU filter, then the stability score and the box of each remaining mask, both on the
 * mask UPSAMPLED to the encoded image's size, as SAM computes them. They come from the low-res
 * logits without upsampling whole masks (src/lib/amg/upsampled-count.ts), equal to counting the
 * upsampled mask. Masks that are empty after upsampling are dropped: SAM keeps them only when its
 * stability filter is off, and an empty region is useless for search.
 */
import { nmsXyxy } from "../masks/nms.js";
import type { BoxXyxy } from "../masks/types.js";
import type { AmgParams } from "./params.js";
import { tallyUpsampledAbove, type UpsampleGeometry } from "./upsampled-count.js";

/** A mask that passed the predicted-IoU and stability filters. */
export interface MaskCandidate {
  /** Prompt index inside the batch, plus `layout.promptOffset`. */
  prompt: number;
  /** Which of the decoder's `masksPerPrompt` outputs (e.g. 1..3 for SAM's multimask outputs). */
  maskIndex: number;
  /** Offset of this mask's `[lowH, lowW]` plane inside the batch's `lowResLogits` array. */
  logitsOffset: number;
  predictedIou: number;
  /** SAM's stability score of the upsampled mask (double; SAM's float32 rounds to the same filter). */
  stability: number;
  /**
   * Tight box of the upsampled mask `> maskThreshold` in output (image or crop) pixels, inclusive
   * max coordinates (SAM's `batched_mask_to_box`).
   */
  boxXyxy: BoxXyxy;
  /** Foreground pixels of the upsampled mask. */
  area: number;
}

/** Shapes of one decoder batch. */
export interface DecoderBatchLayout {
  /** B: prompts in this batch. */
  batchSize: number;
  /** M: masks per prompt (4 for SAM's decoder). */
  masksPerPrompt: number;
  /** Added to each candidate's `prompt` so indices stay global across batches (default 0). */
  promptOffset?: number;
}

/**
 * Filter one decoder batch like SAM's `_process_batch`.
 *
 * `iouPredictions` is `[B, M]`; `lowResLogits` is `[B, M, lowH, lowW]` (all row-major, sizes in
 * `geometry`). Only `maskIndices` of each prompt are considered (SAM's multimask mode uses
 * `[1, 2, 3]`). Keeps masks with `predictedIou > predIouThresh` (skipped when the threshold is 0)
 * and `stability >= stabilityScoreThresh` (skipped when 0), both compared in float32 as PyTorch
 * does, then drops empty masks. Candidates come out prompt-major, then in `maskIndices` order
 * (SAM's flatten order).
 */
export function filterDecoderBatch(
  iouPredictions: Float32Array,
  lowResLogits: Float32Array,
  layout: DecoderBatchLayout,
  geometry: UpsampleGeometry,
  maskIndices: readonly number[],
  params: Pick<AmgParams, "predIouThresh" | "stabilityScoreThresh" | "stabilityScoreOffset">,
  maskThreshold: number,
): MaskCandidate[] {
  const { batchSize: b, masksPerPrompt: m } = layout;
  const plane = geometry.lowH * geometry.lowW;
  if (iouPredictions.length !== b * m)
    throw new Error(
      `filterDecoderBatch: ${iouPredictions.length} IoU predictions, expected ${b}×${m}`,
    );
  if (lowResLogits.length !== b * m * plane) {
    throw new Error(
      `filterDecoderBatch: ${lowResLogits.length} logits, expected ${b}×${m}×${geometry.lowH}×${geometry.lowW}`,
    );
  }
  for (const k of maskIndices) {
    if (!Number.isInteger(k) || k < 0 || k >= m)
      throw new Error(`filterDecoderBatch: mask index ${k} not in [0, ${m})`);
  }
  // PyTorch compares a float32 tensor with a Python float in float32, so round thresholds the same way.
  const iouThresh = Math.fround(params.predIouThresh);
  const stabilityThresh = Math.fround(params.stabilityScoreThresh);
  const delta = params.stabilityScoreOffset;
  const out: MaskCandidate[] = [];
  for (let p = 0; p < b; p++) {
    for (const k of maskIndices) {
      const predictedIou = iouPredictions[p * m + k]!;
      if (params.predIouThresh > 0 && !(predictedIou > iouThresh)) continue;
      const logitsOffset = (p * m + k) * plane;
      const tally = tallyUpsampledAbove(lowResLogits, logitsOffset, geometry, [
        maskThreshold - delta,
        maskThreshold + delta,
        maskThreshold,
      ]);
      // Bounds first: a mask whose stability cannot reach the threshold is never interpolated.
      if (tally.upper[0] === 0) continue;
      if (
        params.stabilityScoreThresh > 0 &&
        tally.lower[0]! > 0 &&
        !(Math.fround(tally.upper[1]! / tally.lower[0]!) >= stabilityThresh)
      )
        continue;
      const [lowest, highest, atMask] = tally.exact();
      const unions = lowest!.count;
      if (unions === 0) continue; // nothing above the lowest threshold: empty, and SAM's 0/0
      const stability = highest!.count / unions;
      if (params.stabilityScoreThresh > 0 && !(Math.fround(stability) >= stabilityThresh)) continue;
      const { count: area, box } = atMask!;
      if (!box) continue;
      out.push({
        prompt: p + (layout.promptOffset ?? 0),
        maskIndex: k,
        logitsOffset,
        predictedIou,
        stability,
        boxXyxy: box,
        area,
      });
    }
  }
  return out;
}

/**
 * SAM's within-crop duplicate removal: greedy NMS over `boxesOriginalXyxy` (one box per candidate,
 * as `BoxXyxy[]` or a `[N, 4]` Float32Array) scored by `predictedIou`, dropping boxes whose IoU
 * with a kept one is `> threshold`. Returns the kept candidates, highest score first.
 */
export function selectByNms<T extends { predictedIou: number }>(
  candidates: readonly T[],
  boxesOriginalXyxy: readonly BoxXyxy[] | Float32Array,
  threshold: number,
): T[] {
  const n = candidates.length;
  const boxes =
    boxesOriginalXyxy instanceof Float32Array
      ? boxesOriginalXyxy
      : Float32Array.from(boxesOriginalXyxy.flat());
  if (boxes.length !== n * 4)
    throw new Error(`selectByNms: ${boxes.length / 4} boxes for ${n} candidates`);
  const scores = Float32Array.from(candidates, (c) => c.predictedIou);
  return nmsXyxy(boxes, scores, threshold).map((i) => candidates[i]!);
}
