/**
 * Model inputs from a decoded RGB image, following docs/model-pack.md "Geometry and preprocessing"
 * to the letter (the Python side, infra/models/shapesworld/preprocess.py, is the reference):
 * resizes are Pillow-exact (see resample.ts), normalisation is computed in float64 and stored as
 * float32, exactly like numpy's `float64 → astype(float32)`.
 */
import { resizedSizeLongestSide } from "../../lib/masks/resize.js";
import { padToSquareGeometry, type PadGeometry } from "./alpha.js";
import { resizeRgbBilinear } from "./resample.js";

/** RGB uint8 HWC pixels (`data.length = height·width·3`). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** SAM's `ResizeLongestSide` frame of an `H × W` image for encoder size `S`. */
export interface SegmenterGeometry {
  /** S: the encoder's square input side. */
  size: number;
  resizedH: number;
  resizedW: number;
}

export function segmenterGeometry(height: number, width: number, size: number): SegmenterGeometry {
  const [resizedH, resizedW] = resizedSizeLongestSide(height, width, size);
  return { size, resizedH, resizedW };
}

/** Per-channel lookup of `(v / divisor − mean[c]) / std[c]` for every uint8 `v`: `[3, 256]` (divide, as numpy does, not multiply by a reciprocal). */
function normLut(mean: readonly number[], std: readonly number[], divisor: number): Float64Array {
  const lut = new Float64Array(3 * 256);
  for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / divisor - mean[c]!) / std[c]!;
  return lut;
}

/** Scatter HWC uint8 `[h, w, 3]` through `lut` into CHW float32 `[3, S, S]` at the top-left. */
function toChw(hwc: Uint8Array, h: number, w: number, lut: Float64Array, out: Float32Array, size: number): void {
  const plane = size * size;
  for (let y = 0; y < h; y++) {
    let p = y * w * 3;
    const row = y * size;
    for (let x = 0; x < w; x++, p += 3) {
      out[row + x] = lut[hwc[p]!]!;
      out[plane + row + x] = lut[256 + hwc[p + 1]!]!;
      out[2 * plane + row + x] = lut[512 + hwc[p + 2]!]!;
    }
  }
}

/**
 * Segmenter encoder input `[1, 3, S, S]` (CHW, row-major): resize to `resizedW × resizedH`
 * (PIL bilinear, antialiased), normalise `(v − pixelMean) / pixelStd` in 0..255 units, zero-pad
 * bottom and right.
 */
export function segmenterInput(
  image: RgbImage,
  geometry: SegmenterGeometry,
  pixelMean: readonly number[],
  pixelStd: readonly number[],
): Float32Array {
  const { width: w, height: h, data } = image;
  const { size, resizedH, resizedW } = geometry;
  const resized = resizeRgbBilinear((y) => data.subarray(y * w * 3, (y + 1) * w * 3), w, h, resizedW, resizedH);
  const out = new Float32Array(3 * size * size); // zeros: the padding
  toChw(resized, resizedH, resizedW, normLut(pixelMean, pixelStd, 1), out, size);
  return out;
}

/** The `[x, y, w, h]` rectangle (inside the image) of `image` (HWC RGB), copied. */
export function cropRgb(image: RgbImage, [x, y, w, h]: readonly [number, number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) {
    const src = ((y + r) * image.width + x) * 3;
    data.set(image.data.subarray(src, src + w * 3), r * w * 3);
  }
  return { width: w, height: h, data };
}

/** `round(mean·255)` per channel, half up (the canvas colour of the embedder's padding). */
export function meanFill(imageMean: readonly number[]): [number, number, number] {
  return [0, 1, 2].map((c) => Math.floor(imageMean[c]! * 255 + 0.5)) as [number, number, number];
}

/**
 * Alpha-CLIP image input `[3, E, E]` (CHW): centred pad to `L × L` with the mean colour, resize to
 * `E × E` (PIL bilinear, antialiased), `/255`, normalise with `imageMean` / `imageStd`.
 * Computed once per image and shared by every region's pass. The canvas is never materialised:
 * rows are built on the fly (constant rows reuse one buffer).
 */
export function embedderImage(
  image: RgbImage,
  size: number,
  imageMean: readonly number[],
  imageStd: readonly number[],
): { data: Float32Array; pad: PadGeometry } {
  const { width: w, height: h, data } = image;
  const pad = padToSquareGeometry(h, w);
  const L = pad.size;
  const fill = meanFill(imageMean);
  const blank = new Uint8Array(L * 3);
  for (let x = 0; x < L; x++) blank.set(fill, x * 3);
  const rowBuf = blank.slice();
  const row = (y: number): Uint8Array => {
    const iy = y - pad.offsetY;
    if (iy < 0 || iy >= h) return blank;
    if (w === L) return data.subarray(iy * w * 3, (iy + 1) * w * 3);
    rowBuf.set(data.subarray(iy * w * 3, (iy + 1) * w * 3), pad.offsetX * 3);
    return rowBuf;
  };
  const resized = resizeRgbBilinear(row, L, L, size, size, (y) => y < pad.offsetY || y >= pad.offsetY + h);
  const out = new Float32Array(3 * size * size);
  toChw(resized, size, size, normLut(imageMean, imageStd, 255), out, size);
  return { data: out, pad };
}
