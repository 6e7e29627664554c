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
import { stabilityScorePlane } from "./stability.js";

/** A mask that passed the predicted-IoU and stability filters. */
export interface MaskCandidate {
  /** Prompt index inside the batch, plus `layout.promptOffset`. */
  prompt: number;
  /** Which of the decoder's `masksPerPrompt` outputs (e.g. 1..3 for SAM's multimask outputs). */
  maskIndex: number;
  /** Offset of this mask's `[lowH, lowW]` plane inside the batch's `lowResLogits` array. */
  logitsOffset: number;
  predictedIou: number;
  stability: number;
  /**
   * Box of `logits > maskThreshold` in low-res pixels, inclusive max coords (SAM's
   * `batched_mask_to_box`), within the scored part of the plane.
   */
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
  /**
   * Score only the top-left `[validH, validW]` part of each plane (default: all of it) — the part
   * that covers the image rather than the encoder's zero padding, as SAM scores only the image.
   */
  validH?: number;
  validW?: number;
}

/**
 * Filter one decoder batch like SAM's `_process_batch`, on low-res logits.
 *
 * `iouPredictions` is `[B, M]`; `lowResLogits` is `[B, M, lowH, lowW]` (all row-major).
 * Only `maskIndices` of each prompt are considered (SAM's multimask mode uses `[1, 2, 3]`).
 * Only the top-left `[validH, validW]` of each plane is read (in place: nothing is copied).
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
  const vh = layout.validH ?? lowH,
    vw = layout.validW ?? lowW;
  const plane = lowH * lowW;
  if (!(vh >= 1 && vh <= lowH && vw >= 1 && vw <= lowW))
    throw new Error(`filterDecoderBatch: valid part ${vh}×${vw} not inside ${lowH}×${lowW}`);
  if (iouPredictions.length !== b * m)
    throw new Error(
      `filterDecoderBatch: ${iouPredictions.length} IoU predictions, expected ${b}×${m}`,
    );
  if (lowResLogits.length !== b * m * plane) {
    throw new Error(
      `filterDecoderBatch: ${lowResLogits.length} logits, expected ${b}×${m}×${lowH}×${lowW}`,
    );
  }
  for (const k of maskIndices) {
    if (!Number.isInteger(k) || k < 0 || k >= m)
      throw new Error(`filterDecoderBatch: mask index ${k} not in [0, ${m})`);
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
      const stability = stabilityScorePlane(
        lowResLogits,
        logitsOffset,
        vh,
        vw,
        lowW,
        maskThreshold,
        params.stabilityScoreOffset,
      );
      if (params.stabilityScoreThresh > 0 && !(Math.fround(stability) >= stabilityThresh)) continue;
      if (!anyAbove(lowResLogits, logitsOffset, vh, vw, lowW, maskThreshold)) continue;
      const boxXyxyLowRes = logitsToBoxXyxyRowMajor(
        lowResLogits,
        logitsOffset,
        vh,
        vw,
        maskThreshold,
        lowW,
      );
      out.push({
        prompt: p + (layout.promptOffset ?? 0),
        maskIndex: k,
        logitsOffset,
        predictedIou,
        stability,
        boxXyxyLowRes,
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

/** Whether any of the `[height, width]` top-left logits of the plane at `offset` is `> threshold`. */
function anyAbove(
  values: Float32Array,
  offset: number,
  height: number,
  width: number,
  rowStride: number,
  threshold: number,
): boolean {
  for (let y = 0; y < height; y++) {
    for (let i = offset + y * rowStride, end = i + width; i < end; i++)
      if (values[i]! > threshold) return true;
  }
  return false;
}
