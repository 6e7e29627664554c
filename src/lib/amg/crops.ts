/**
 * SAM's multi-crop geometry (`generate_crop_boxes`, `is_box_near_crop_edge`, `uncrop_*`).
 * Crop boxes are `[x0, y0, x1, y1]` with EXCLUSIVE x1/y1 (the crop is `image[y0:y1, x0:x1]`).
 */
import type { BoxXyxy } from "../masks/types.js";

/**
 * Crop boxes for `nLayers` crop layers, the full image `[0, 0, imW, imH]` first (layer 0).
 * Layer `i ≥ 1` has `2^i × 2^i` crops of `ceil((overlap·(n − 1) + len) / n)` pixels per side with
 * `overlap = int(overlapRatio · min(imH, imW) · 2 / n)`, `n = 2^i`, starting at `int((crop − overlap)·k)`,
 * clipped to the image; ordered x-major (all y offsets for the first x offset, then the next),
 * exactly SAM's arithmetic. `layerIdxs[k]` is the layer of `boxes[k]`.
 */
export function generateCropBoxes(
  imH: number,
  imW: number,
  nLayers: number,
  overlapRatio: number,
): { boxes: BoxXyxy[]; layerIdxs: number[] } {
  const boxes: BoxXyxy[] = [[0, 0, imW, imH]];
  const layerIdxs: number[] = [0];
  const shortSide = Math.min(imH, imW);
  const cropLen = (origLen: number, nCrops: number, overlap: number): number =>
    Math.ceil((overlap * (nCrops - 1) + origLen) / nCrops);

  for (let layer = 0; layer < nLayers; layer++) {
    const nPerSide = 2 ** (layer + 1);
    const overlap = Math.trunc(overlapRatio * shortSide * (2 / nPerSide));
    const cropW = cropLen(imW, nPerSide, overlap);
    const cropH = cropLen(imH, nPerSide, overlap);
    for (let i = 0; i < nPerSide; i++) {
      const x0 = Math.trunc((cropW - overlap) * i);
      for (let j = 0; j < nPerSide; j++) {
        const y0 = Math.trunc((cropH - overlap) * j);
        boxes.push([x0, y0, Math.min(x0 + cropW, imW), Math.min(y0 + cropH, imH)]);
        layerIdxs.push(layer + 1);
      }
    }
  }
  return { boxes, layerIdxs };
}

/**
 * SAM's `is_box_near_crop_edge` for one box given in the CROP's frame: after moving it to the image
 * frame, true when any coordinate is within `atol` of the matching crop-box edge but not within
 * `atol` of the matching `origBox` edge (a mask cut by the crop border, not by the image border).
 */
export function isBoxNearCropEdge(
  box: BoxXyxy,
  cropBox: BoxXyxy,
  origBox: BoxXyxy,
  atol = 20,
): boolean {
  const b = uncropBoxXyxy(box, cropBox);
  for (let k = 0; k < 4; k++) {
    const nearCrop = Math.abs(b[k]! - cropBox[k]!) <= atol;
    const nearImage = Math.abs(b[k]! - origBox[k]!) <= atol;
    if (nearCrop && !nearImage) return true;
  }
  return false;
}

/** Box in a crop's frame → image frame: add the crop's `(x0, y0)` to both corners. */
export function uncropBoxXyxy(box: BoxXyxy, cropBox: BoxXyxy): BoxXyxy {
  const [x0, y0] = cropBox;
  return [box[0] + x0, box[1] + y0, box[2] + x0, box[3] + y0];
}

/**
 * SAM's `uncrop_masks`: place a row-major `[y1 − y0, x1 − x0]` crop mask into a zero row-major
 * `[origH, origW]` mask at the crop box (returns the input itself when the crop is the full image).
 */
export function uncropMaskRowMajor(
  mask: Uint8Array,
  cropBox: BoxXyxy,
  origH: number,
  origW: number,
): Uint8Array {
  const [x0, y0, x1, y1] = cropBox;
  const cw = x1 - x0,
    ch = y1 - y0;
  if (mask.length !== cw * ch)
    throw new Error(`uncropMaskRowMajor: mask has ${mask.length} values, crop is ${ch}×${cw}`);
  if (x0 === 0 && y0 === 0 && cw === origW && ch === origH) return mask;
  const out = new Uint8Array(origH * origW);
  for (let y = 0; y < ch; y++) out.set(mask.subarray(y * cw, (y + 1) * cw), (y + y0) * origW + x0);
  return out;
}
