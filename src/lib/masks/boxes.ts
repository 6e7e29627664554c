/**
 * Box conversions, box IoU and mask → box, following SAM / torchvision conventions.
 * Boxes are plain 4-tuples; see `types.ts` for the inclusive/exclusive note.
 */
import type { BoxXywh, BoxXyxy } from "./types.js";

/** `[x, y, w, h]` → `[x, y, x + w, y + h]` (inverse of SAM's `box_xyxy_to_xywh`; keeps the convention). */
export function boxXywhToXyxy(box: BoxXywh): BoxXyxy {
  const [x, y, w, h] = box;
  return [x, y, x + w, y + h];
}

/** Area `(x1 − x0)·(y1 − y0)` of a box treated as a continuous rectangle (torchvision's `box_area`). */
export function boxAreaXyxy(box: BoxXyxy): number {
  return (box[2] - box[0]) * (box[3] - box[1]);
}

/**
 * IoU of two xyxy boxes as torchvision's `box_iou`: continuous rectangles, no `+1`.
 * Returns 0 when the union is 0 (torchvision would give NaN).
 */
export function boxIouXyxy(a: BoxXyxy, b: BoxXyxy): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = boxAreaXyxy(a) + boxAreaXyxy(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Tight box of a row-major `[height, width]` 0/1 mask as SAM's `batched_mask_to_box`:
 * `[minX, minY, maxX, maxY]` with INCLUSIVE max coordinates (a one-pixel mask at (3, 5) gives
 * `[3, 5, 3, 5]`), and `[0, 0, 0, 0]` for an empty mask.
 */
export function maskToBoxXyxyRowMajor(mask: Uint8Array, height: number, width: number): BoxXyxy {
  if (mask.length !== height * width) {
    throw new Error(`mask has ${mask.length} values, expected ${height}×${width}`);
  }
  return maskBoxAndArea(mask, width, [0, 0, width - 1, height - 1]).box;
}

/**
 * Box (as `maskToBoxXyxyRowMajor`) and foreground pixel count of a row-major `[height, width]` 0/1
 * mask whose foreground lies inside `window` (inclusive `[x0, y0, x1, y1]`): only the window is
 * read, so the cost is the window's area, not the image's. Pixels outside it are assumed 0.
 */
export function maskBoxAndAreaInWindowRowMajor(
  mask: Uint8Array,
  height: number,
  width: number,
  window: BoxXyxy,
): { box: BoxXyxy; area: number } {
  if (mask.length !== height * width)
    throw new Error(`mask has ${mask.length} values, expected ${height}×${width}`);
  const [x0, y0, x1, y1] = window;
  if (x0 < 0 || y0 < 0 || x1 >= width || y1 >= height)
    throw new Error(`window [${window.join(", ")}] outside a ${height}×${width} mask`);
  return maskBoxAndArea(mask, width, window);
}

/**
 * Same as `maskToBoxXyxyRowMajor` for the mask `logits > threshold`, where the `[height, width]`
 * row-major logits start at `offset` inside a larger batch array (no mask is allocated).
 * With `rowStride` (default `width`) the `[height, width]` plane is the top-left part of wider rows.
 */
export function logitsToBoxXyxyRowMajor(
  logits: Float32Array,
  offset: number,
  height: number,
  width: number,
  threshold: number,
  rowStride = width,
): BoxXyxy {
  const end = offset + (height - 1) * rowStride + width;
  if (offset < 0 || rowStride < width || (height > 0 && end > logits.length)) {
    throw new Error(`logits window [${offset}, ${end}) is outside an array of ${logits.length}`);
  }
  let minX = width,
    minY = height,
    maxX = -1,
    maxY = -1;
  for (let y = 0; y < height; y++) {
    const row = offset + y * rowStride;
    let first = -1,
      last = -1;
    for (let x = 0; x < width; x++) {
      if (logits[row + x]! > threshold) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (minY === height) minY = y;
    maxY = y;
    if (first < minX) minX = first;
    if (last > maxX) maxX = last;
  }
  return maxX < 0 ? [0, 0, 0, 0] : [minX, minY, maxX, maxY];
}

function maskBoxAndArea(
  mask: Uint8Array,
  width: number,
  [x0, y0, x1, y1]: BoxXyxy,
): { box: BoxXyxy; area: number } {
  let minX = Infinity,
    minY = -1,
    maxX = -1,
    maxY = -1,
    area = 0;
  for (let y = y0; y <= y1; y++) {
    const row = y * width;
    let first = -1,
      last = -1;
    for (let x = x0; x <= x1; x++) {
      if (mask[row + x] !== 0) {
        if (first < 0) first = x;
        last = x;
        area++;
      }
    }
    if (first < 0) continue;
    if (minY < 0) minY = y;
    maxY = y;
    if (first < minX) minX = first;
    if (last > maxX) maxX = last;
  }
  return { box: maxX < 0 ? [0, 0, 0, 0] : [minX, minY, maxX, maxY], area };
}
