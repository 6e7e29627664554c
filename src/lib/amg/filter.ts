/**
 * Per-decoder-batch filtering for automatic mask generation.
 *
 * DELIBERATE DEVIATION FROM SAM: SAM upsamples every mask to the original image and only then
 * computes the stability score and the box used by NMS. We compute both on the low-res logits
 * (`4h × 4w`, e.g. 256×256 for SAM's 1024 frame) and upsample only the masks that survive the
 * filters and NMS. The stability score then counts low-res pixels rather than full-res pixels (a
 * close approximation, since the upsampling is a smooth interpolation of the same logits), and the
 * NMS boxes are mapped from low-res with `lowResBoxToOriginalXyxy` (accurate to about one low-res
 * pixel). Masks that are empty at low resolution are dropped: SAM would keep them only when its
 * stability filter is off, and an empty region is useless for search.
 */
import { logitsToBoxXyxyRowMajor } from "../masks/boxes.js";
import { nmsXyxy } from "../masks/nms.js";
import type { BoxXyxy } from "../masks/types.js";
import type { AmgParams } from "./params.js";
import { stabilityScore } from "./stability.js";

/** A mask that passed the predicted-IoU and stability filters. */
export interface MaskCandidate {
  /** Prompt index inside the batch, plus `layout.promptOffset`. */
  prompt: number;
  /** Which of the decoder's `masksPerPrompt` outputs (e.g. 1..3 for SAM's multimask outputs). */
  maskIndex: number;
  /** Offset of this mask's `[lowH, lowW]` logits inside the batch's `lowResLogits` array. */
  logitsOffset: number;
  predictedIou: number;
  stability: number;
  /** Box of `logits > maskThreshold` in low-res pixels, inclusive max coords (SAM's `batched_mask_to_box`). */
  boxXyxyLowRes: BoxXyxy;
}

/** Shapes of one decoder batch. */
export interface DecoderBatchLayout {
  /** B: prompts in this batch. */
  batchSize: number;
  /** M: masks per prompt (4 for SAM's decoder). */
  masksPerPrompt: number;
  /** Low-res logit height `4h` and width `4w`. */
  lowH: number;
  lowW: number;
  /** Added to each candidate's `prompt` so indices stay global across batches (default 0). */
  promptOffset?: number;
}

/**
 * Filter one decoder batch like SAM's `_process_batch`, on low-res logits.
 *
 * `iouPredictions` is `[B, M]`; `lowResLogits` is `[B, M, lowH, lowW]` (all row-major).
 * Only `maskIndices` of each prompt are considered (SAM's multimask mode uses `[1, 2, 3]`).
 * Keeps masks with `predictedIou > predIouThresh` (skipped when the threshold is 0) and
 * `stability >= stabilityScoreThresh` (skipped when 0), both compared in float32 as PyTorch does,
 * then drops empty masks.
 * Candidates come out prompt-major, then in `maskIndices` order (SAM's flatten order).
 */
export function filterDecoderBatch(
  iouPredictions: Float32Array,
  lowResLogits: Float32Array,
  layout: DecoderBatchLayout,
  maskIndices: readonly number[],
  params: Pick<AmgParams, "predIouThresh" | "stabilityScoreThresh" | "stabilityScoreOffset">,
  maskThreshold: number,
): MaskCandidate[] {
  const { batchSize: b, masksPerPrompt: m, lowH, lowW } = layout;
  const plane = lowH * lowW;
  if (iouPredictions.length !== b * m) throw new Error(`filterDecoderBatch: ${iouPredictions.length} IoU predictions, expected ${b}×${m}`);
  if (lowResLogits.length !== b * m * plane) {
    throw new Error(`filterDecoderBatch: ${lowResLogits.length} logits, expected ${b}×${m}×${lowH}×${lowW}`);
  }
  for (const k of maskIndices) {
    if (!Number.isInteger(k) || k < 0 || k >= m) throw new Error(`filterDecoderBatch: mask index ${k} not in [0, ${m})`);
  }
  // PyTorch compares a float32 tensor with a Python float in float32, so round thresholds the same way.
  const iouThresh = Math.fround(params.predIouThresh);
  const stabilityThresh = Math.fround(params.stabilityScoreThresh);
  const out: MaskCandidate[] = [];
  for (let p = 0; p < b; p++) {
    for (const k of maskIndices) {
      const predictedIou = iouPredictions[p * m + k]!;
      if (params.predIouThresh > 0 && !(predictedIou > iouThresh)) continue;
      const logitsOffset = (p * m + k) * plane;
      const stability = stabilityScore(lowResLogits, logitsOffset, plane, maskThreshold, params.stabilityScoreOffset);
      if (params.stabilityScoreThresh > 0 && !(Math.fround(stability) >= stabilityThresh)) continue;
      if (!anyAbove(lowResLogits, logitsOffset, plane, maskThreshold)) continue;
      const boxXyxyLowRes = logitsToBoxXyxyRowMajor(lowResLogits, logitsOffset, lowH, lowW, maskThreshold);
      out.push({ prompt: p + (layout.promptOffset ?? 0), maskIndex: k, logitsOffset, predictedIou, stability, boxXyxyLowRes });
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
  const boxes = boxesOriginalXyxy instanceof Float32Array ? boxesOriginalXyxy : Float32Array.from(boxesOriginalXyxy.flat());
  if (boxes.length !== n * 4) throw new Error(`selectByNms: ${boxes.length / 4} boxes for ${n} candidates`);
  const scores = Float32Array.from(candidates, (c) => c.predictedIou);
  return nmsXyxy(boxes, scores, threshold).map((i) => candidates[i]!);
}

function anyAbove(values: Float32Array, offset: number, length: number, threshold: number): boolean {
  for (let i = offset, end = offset + length; i < end; i++) if (values[i]! > threshold) return true;
  return false;
}
