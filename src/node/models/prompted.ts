/**
 * Interactive segmentation: one point or box prompt → one mask, as segment-anything's predictor
 * examples call `SamPredictor.predict` — a single point is ambiguous, so the decoder's multimask
 * outputs are scored and the one with the highest predicted IoU kept (`multimask_output=True`); a
 * box is not, so its single-mask output is kept (`multimask_output=False`). The prompt goes to the pack's
 * decoder through its public ONNX contract (SAM's `SamOnnxModel` inputs: box corners are labels 2
 * and 3; a point prompt gets the padding point `(0, 0)` with label −1, a box prompt none), and the
 * encoder runs through the segmenter (segmenter.ts). Nothing here changes the decoders themselves.
 */
import type { InferenceSession } from "onnxruntime-node";
import { maskToBoxXyxyRowMajor } from "../../lib/masks/boxes.js";
import { upsampleLowResLogitsToMask } from "../../lib/masks/resize.js";
import type { BoxXyxy } from "../../lib/masks/types.js";
import type { RegionPrompt } from "../../lib/services.js";
import type { ModelPack } from "./pack.js";
import type { ImageEncoding } from "./segmenter.js";
import { ort, runFloat } from "./session.js";

/** The mask one prompt selects, at the encoded image's resolution. */
export interface PromptedMask {
  /** Row-major `[height, width]` 0/1 mask. */
  mask: Uint8Array;
  /** Tight box, INCLUSIVE max coordinates (SAM's `batched_mask_to_box`); `[0, 0, 0, 0]` when empty. */
  boxXyxy: BoxXyxy;
  area: number;
  predictedIou: number;
}

/**
 * The decoder's `point_coords` `[1, N, 2]` (in the RESIZED frame: SAM's `apply_coords`,
 * `x · resizedW / width`) and `point_labels` `[1, N]` for one prompt in image pixels.
 */
export function promptInputs(
  prompt: RegionPrompt,
  enc: Pick<ImageEncoding, "width" | "height" | "geometry">,
): { coords: Float32Array; labels: Float32Array } {
  const sx = enc.geometry.resizedW / enc.width;
  const sy = enc.geometry.resizedH / enc.height;
  if ("point" in prompt) {
    const [x, y] = prompt.point;
    return { coords: Float32Array.of(x * sx, y * sy, 0, 0), labels: Float32Array.of(1, -1) };
  }
  const [x, y, w, h] = prompt.box;
  return {
    coords: Float32Array.of(x * sx, y * sy, (x + w) * sx, (y + h) * sy),
    labels: Float32Array.of(2, 3),
  };
}

/** Output index kept for a prompt: the best-scored multimask output for a point, mask 0 for a box. */
export function chosenMaskIndex(prompt: RegionPrompt, iou: Float32Array): number {
  if ("box" in prompt || iou.length === 1) return 0;
  let best = 1;
  for (let i = 2; i < iou.length; i++) if (iou[i]! > iou[best]!) best = i;
  return best;
}

/**
 * Decodes one prompt on an encoded image with the pack's single-prompt decoder (or its batched
 * decoder with a batch of one) and upsamples the chosen mask to the image's pixels.
 */
export async function decodePrompt(
  pack: ModelPack,
  enc: ImageEncoding,
  prompt: RegionPrompt,
): Promise<PromptedMask> {
  const session = pack.sessions.decoder ?? pack.sessions.batchedDecoder;
  if (!session) throw new Error(`model pack ${pack.id}: no segmenter decoder is loaded`);
  const out = await runDecoder(session, session === pack.sessions.decoder, enc, prompt);
  const iou = out["iou_predictions"]!, low = out["low_res_masks"]!;
  const [, m, lowH, lowW] = low.dims as [number, number, number, number];
  const k = chosenMaskIndex(prompt, iou.data.subarray(0, m));
  const plane = lowH * lowW;
  const { resizedH, resizedW, size } = enc.geometry;
  const threshold = pack.manifest.segmenter.maskThreshold;
  const logits = low.data.subarray(k * plane, (k + 1) * plane);
  const mask = upsampleLowResLogitsToMask(logits, lowH, lowW, size, resizedH, resizedW, enc.height, enc.width, threshold);
  let area = 0;
  for (let i = 0; i < mask.length; i++) area += mask[i]!;
  return { mask, boxXyxy: maskToBoxXyxyRowMajor(mask, enc.height, enc.width), area, predictedIou: iou.data[k]! };
}

async function runDecoder(session: InferenceSession, single: boolean, enc: ImageEncoding, prompt: RegionPrompt) {
  const { coords, labels } = promptInputs(prompt, enc);
  const n = labels.length;
  const [lh, lw] = [4 * enc.embeddings.dims[2]!, 4 * enc.embeddings.dims[3]!];
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    image_embeddings: enc.embeddings,
    point_coords: new ort.Tensor("float32", coords, [1, n, 2]),
    point_labels: new ort.Tensor("float32", labels, [1, n]),
    mask_input: new ort.Tensor("float32", new Float32Array(lh * lw), [1, 1, lh, lw]),
    has_mask_input: new ort.Tensor("float32", new Float32Array(1), [1]),
  };
  // The official decoder also computes full-size `masks`; asking for the resized size keeps them small.
  if (single) feeds["orig_im_size"] = new ort.Tensor("float32", Float32Array.of(enc.geometry.resizedH, enc.geometry.resizedW), [2]);
  return runFloat(session, feeds, ["iou_predictions", "low_res_masks"]);
}
