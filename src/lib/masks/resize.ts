/**
 * SAM's `postprocess_masks` for one mask, and the geometry between the low-res logit frame and
 * original pixels.
 *
 * SAM maps low-res logits `[lowH, lowW]` (covering the zero-padded `S × S` encoder frame) to the
 * original image with two bilinear resizes (PyTorch `F.interpolate`, `align_corners=False`, no
 * antialias): `lowH × lowW → S × S`, crop the top-left `resizedH × resizedW` (the un-padded part),
 * then `→ outH × outW`. Bilinear resizing is separable and each stage is linear, so per axis the
 * two stages compose into one short list of low-res taps per output index (≤ 4, usually 2–3).
 * That skips the `S × S` intermediate and all of the padding entirely.
 */
import type { BoxXyxy } from "./types.js";

/** Per output index, up to 4 (source index, weight) taps; unused slots have weight 0. */
export interface AxisTaps {
  count: Uint8Array; // [n]
  index: Int32Array; // [n, 4]
  weight: Float64Array; // [n, 4]
}

export const MAX_TAPS = 4;

/**
 * SAM's `ResizeLongestSide` target shape: `scale = S / max(H, W)`, each side `floor(side·scale + 0.5)`.
 * Returns `[resizedH, resizedW]`.
 */
export function resizedSizeLongestSide(
  origH: number,
  origW: number,
  longestSide: number,
): [number, number] {
  const scale = longestSide / Math.max(origH, origW);
  return [Math.floor(origH * scale + 0.5), Math.floor(origW * scale + 0.5)];
}

/**
 * SAM's `postprocess_masks` for ONE mask: `lowRes` is row-major `[lowH, lowW]` logits over the
 * padded `paddedSize × paddedSize` frame; the result is row-major `[outH, outW]` logits
 * (Float32Array). Equals upsample to `S × S` → crop `[0, resizedH) × [0, resizedW)` → resize to
 * `outH × outW`, both bilinear with PyTorch's `align_corners=False` rules (half-pixel centres,
 * negative source positions clamped to 0, the last source index repeated at the far edge).
 * Pass a `subarray` to read one mask of a batch without copying.
 */
export function upsampleLowResLogits(
  lowRes: Float32Array,
  lowH: number,
  lowW: number,
  paddedSize: number,
  resizedH: number,
  resizedW: number,
  outH: number,
  outW: number,
): Float32Array {
  const out = new Float32Array(outH * outW);
  upsampleRows(lowRes, lowH, lowW, paddedSize, resizedH, resizedW, outH, outW, (y, row) => {
    out.set(row, y * outW);
  });
  return out;
}

/**
 * `thresholdLogits(upsampleLowResLogits(...), threshold)` without materialising the float image:
 * row-major `[outH, outW]` 0/1 mask, 1 where the upsampled logit is `> threshold`.
 *
 * `window` (inclusive output-pixel box `[x0, y0, x1, y1]`) restricts the work to that box and leaves
 * the rest 0. The result is unchanged when the window covers every output pixel whose taps reach a
 * low-res logit above `threshold` — see `upsampleWindowXyxy`, which gives such a box.
 */
export function upsampleLowResLogitsToMask(
  lowRes: Float32Array,
  lowH: number,
  lowW: number,
  paddedSize: number,
  resizedH: number,
  resizedW: number,
  outH: number,
  outW: number,
  threshold: number,
  window?: BoxXyxy,
): Uint8Array {
  const mask = new Uint8Array(outH * outW);
  const [x0, y0, x1, y1] = clampWindow(window, outH, outW);
  upsampleRows(
    lowRes,
    lowH,
    lowW,
    paddedSize,
    resizedH,
    resizedW,
    outH,
    outW,
    (y, row) => {
      const base = y * outW;
      for (let x = x0; x <= x1; x++) if (row[x - x0]! > threshold) mask[base + x] = 1;
    },
    [x0, y0, x1, y1],
  );
  return mask;
}

/**
 * An output-pixel window (inclusive `[x0, y0, x1, y1]`) outside which the upsampled mask of a low-res
 * mask with box `boxLowRes` (inclusive low-res indices of its pixels above threshold) is 0. Each
 * output value is a convex combination of its composed taps, so it can exceed the threshold only if
 * a tap does; the taps of an output pixel lie within two low-res pixels of where it projects, so
 * the box grown by two low-res pixels (plus a pixel of rounding) contains every positive pixel.
 */
export function upsampleWindowXyxy(
  boxLowRes: BoxXyxy,
  lowH: number,
  lowW: number,
  paddedSize: number,
  resizedH: number,
  resizedW: number,
  outH: number,
  outW: number,
): BoxXyxy {
  const [bx0, by0, bx1, by1] = boxLowRes;
  const grown: BoxXyxy = [
    Math.max(0, bx0 - 2),
    Math.max(0, by0 - 2),
    Math.min(lowW - 1, bx1 + 2),
    Math.min(lowH - 1, by1 + 2),
  ];
  const [x0, y0, x1, y1] = lowResBoxToOriginalXyxy(
    grown,
    lowH,
    lowW,
    paddedSize,
    resizedH,
    resizedW,
    outH,
    outW,
  );
  return [
    Math.max(0, Math.floor(x0) - 1),
    Math.max(0, Math.floor(y0) - 1),
    Math.min(outW - 1, Math.ceil(x1) + 1),
    Math.min(outH - 1, Math.ceil(y1) + 1),
  ];
}

function clampWindow(window: BoxXyxy | undefined, outH: number, outW: number): BoxXyxy {
  if (!window) return [0, 0, outW - 1, outH - 1];
  const [x0, y0, x1, y1] = window;
  return [
    Math.max(0, Math.floor(x0)),
    Math.max(0, Math.floor(y0)),
    Math.min(outW - 1, Math.ceil(x1)),
    Math.min(outH - 1, Math.ceil(y1)),
  ];
}

/** 0/1 mask (same layout as `logits`), 1 where `logits[i] > threshold` (SAM's `masks > mask_threshold`). */
export function thresholdLogits(logits: Float32Array, threshold: number): Uint8Array {
  const mask = new Uint8Array(logits.length);
  for (let i = 0; i < logits.length; i++) if (logits[i]! > threshold) mask[i] = 1;
  return mask;
}

/**
 * Map a box measured on low-res logits (`[x0, y0, x1, y1]`, inclusive low-res pixel indices, as
 * `maskToBoxXyxyRowMajor` gives) to original-image pixels, inclusive, as SAM's box of the
 * upsampled mask would be, so NMS can run before upsampling. Low-res pixel `i` spans
 * `[i, i+1)·S/low` in the padded frame and padded `x` maps to original `x·origW/resizedW`; the
 * result spans those edges (`x1 → (x1+1)·f − 1`) clamped to the image. Accurate to about one
 * low-res pixel (`f = S/low · orig/resized` original pixels), since the true edge lies where the
 * interpolated logit crosses the threshold. Coordinates are fractional.
 */
export function lowResBoxToOriginalXyxy(
  boxLowRes: BoxXyxy,
  lowH: number,
  lowW: number,
  paddedSize: number,
  resizedH: number,
  resizedW: number,
  origH: number,
  origW: number,
): BoxXyxy {
  const fx = (paddedSize / lowW) * (origW / resizedW);
  const fy = (paddedSize / lowH) * (origH / resizedH);
  const clamp = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  const [x0, y0, x1, y1] = boxLowRes;
  return [
    clamp(x0 * fx, origW - 1),
    clamp(y0 * fy, origH - 1),
    clamp((x1 + 1) * fx - 1, origW - 1),
    clamp((y1 + 1) * fy - 1, origH - 1),
  ];
}

/**
 * Shared driver: horizontal pass over every low-res row, then one vertical pass per output row.
 * With `window` (inclusive output box), only its columns and rows are computed and `emit` gets rows
 * of the window's width, indexed from its left edge. `emit`'s row buffer is reused between calls.
 */
export function upsampleRows(
  lowRes: Float32Array,
  lowH: number,
  lowW: number,
  paddedSize: number,
  resizedH: number,
  resizedW: number,
  outH: number,
  outW: number,
  emit: (y: number, row: Float64Array) => void,
  window: BoxXyxy = [0, 0, outW - 1, outH - 1],
): void {
  checkGeometry(lowRes.length, lowH, lowW, paddedSize, resizedH, resizedW, outH, outW);
  const [wx0, wy0, wx1, wy1] = window;
  const width = wx1 - wx0 + 1;
  if (width <= 0 || wy1 < wy0) return;
  const tx = composedTaps(lowW, paddedSize, resizedW, outW);
  const ty = composedTaps(lowH, paddedSize, resizedH, outH);
  // Only the low-res rows that the window's output rows read take the horizontal pass.
  const [r0, r1] = tapRange(ty, wy0, wy1);
  const mid = new Float64Array((r1 - r0 + 1) * width);
  for (let r = r0; r <= r1; r++) {
    const src = r * lowW,
      dst = (r - r0) * width;
    for (let x = wx0; x <= wx1; x++) {
      let acc = 0;
      for (let k = 0, n = tx.count[x]!; k < n; k++) {
        acc += tx.weight[x * MAX_TAPS + k]! * lowRes[src + tx.index[x * MAX_TAPS + k]!]!;
      }
      mid[dst + x - wx0] = acc;
    }
  }
  // Vertical pass: each output row is a weighted sum of a few contiguous `mid` rows.
  const row = new Float64Array(width);
  for (let y = wy0; y <= wy1; y++) {
    weightedRowSum(mid, width, ty, y, r0, row);
    emit(y, row);
  }
}

/** Smallest and largest source index read by the taps of outputs `o0..o1`. */
function tapRange(taps: AxisTaps, o0: number, o1: number): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (let o = o0; o <= o1; o++) {
    for (let k = 0, n = taps.count[o]!; k < n; k++) {
      const i = taps.index[o * MAX_TAPS + k]!;
      if (i < lo) lo = i;
      if (i > hi) hi = i;
    }
  }
  return [lo, hi];
}

/**
 * `row = Σ_k w_k · mid[r_k − firstRow, :]` over the taps of output row `y` (`mid` holds low-res
 * rows from `firstRow` on), in one pass for the common counts.
 */
function weightedRowSum(
  mid: Float64Array,
  width: number,
  taps: AxisTaps,
  y: number,
  firstRow: number,
  row: Float64Array,
): void {
  const t = y * MAX_TAPS;
  const n = taps.count[y]!;
  const w0 = taps.weight[t]!,
    a = (taps.index[t]! - firstRow) * width;
  if (n === 1) {
    for (let x = 0; x < width; x++) row[x] = w0 * mid[a + x]!;
    return;
  }
  const w1 = taps.weight[t + 1]!,
    b = (taps.index[t + 1]! - firstRow) * width;
  if (n === 2) {
    for (let x = 0; x < width; x++) row[x] = w0 * mid[a + x]! + w1 * mid[b + x]!;
    return;
  }
  const w2 = taps.weight[t + 2]!,
    c = (taps.index[t + 2]! - firstRow) * width;
  for (let x = 0; x < width; x++) row[x] = w0 * mid[a + x]! + w1 * mid[b + x]! + w2 * mid[c + x]!;
  if (n === 4) {
    const w3 = taps.weight[t + 3]!,
      d = (taps.index[t + 3]! - firstRow) * width;
    for (let x = 0; x < width; x++) row[x]! += w3 * mid[d + x]!;
  }
}

/**
 * Taps of `align_corners=False` linear resizing `inSize → outSize`, for the first `count` outputs:
 * `src = max((dst + 0.5)·in/out − 0.5, 0)`, `i0 = floor(src)`, `i1 = min(i0 + 1, in − 1)`,
 * weights `1 − (src − i0)` and `src − i0` (PyTorch's `area_pixel_compute_source_index`).
 */
function linearTaps(
  inSize: number,
  outSize: number,
  count: number,
): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  const i0 = new Int32Array(count),
    i1 = new Int32Array(count),
    w1 = new Float64Array(count);
  const scale = inSize / outSize;
  for (let d = 0; d < count; d++) {
    const src = Math.max((d + 0.5) * scale - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = lo < inSize - 1 ? lo + 1 : lo;
    w1[d] = src - lo;
  }
  return { i0, i1, w1 };
}

/** The last few axes' taps: every region of an image shares its two axes' geometry. */
const recentTaps = new Map<string, AxisTaps>();
const RECENT_TAPS = 8;

/**
 * One axis of SAM's two-stage resize as composed low-res taps (see `buildComposedTaps`), memoised
 * on its four sizes. Callers must not write to the result.
 */
export function composedTaps(
  lowSize: number,
  paddedSize: number,
  resizedSize: number,
  outSize: number,
): AxisTaps {
  const key = `${lowSize},${paddedSize},${resizedSize},${outSize}`;
  let taps = recentTaps.get(key);
  if (!taps) {
    taps = buildComposedTaps(lowSize, paddedSize, resizedSize, outSize);
    if (recentTaps.size >= RECENT_TAPS) recentTaps.delete(recentTaps.keys().next().value!);
    recentTaps.set(key, taps);
  }
  return taps;
}

/** One axis of the two-stage resize (low → padded, crop to `resized`, → out) as merged low-res taps. */
function buildComposedTaps(
  lowSize: number,
  paddedSize: number,
  resizedSize: number,
  outSize: number,
): AxisTaps {
  const first = linearTaps(lowSize, paddedSize, resizedSize); // only the cropped part is ever read
  const second = linearTaps(resizedSize, outSize, outSize);
  const taps: AxisTaps = {
    count: new Uint8Array(outSize),
    index: new Int32Array(outSize * MAX_TAPS),
    weight: new Float64Array(outSize * MAX_TAPS),
  };
  for (let o = 0; o < outSize; o++) {
    const mids = [second.i0[o]!, second.i1[o]!];
    const midWeights = [1 - second.w1[o]!, second.w1[o]!];
    for (let m = 0; m < 2; m++) {
      const c = mids[m]!;
      addTap(taps, o, first.i0[c]!, midWeights[m]! * (1 - first.w1[c]!));
      addTap(taps, o, first.i1[c]!, midWeights[m]! * first.w1[c]!);
    }
  }
  return taps;
}

/** Add `weight` to source `index` of output `o`, merging with an existing tap on the same index. */
function addTap(taps: AxisTaps, o: number, index: number, weight: number): void {
  const base = o * MAX_TAPS;
  const n = taps.count[o]!;
  for (let k = 0; k < n; k++) {
    if (taps.index[base + k] === index) {
      taps.weight[base + k]! += weight;
      return;
    }
  }
  taps.index[base + n] = index;
  taps.weight[base + n] = weight;
  taps.count[o] = n + 1;
}

function checkGeometry(
  length: number,
  lowH: number,
  lowW: number,
  paddedSize: number,
  resizedH: number,
  resizedW: number,
  outH: number,
  outW: number,
): void {
  const dims = { lowH, lowW, paddedSize, resizedH, resizedW, outH, outW };
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`upsample: ${name} must be a positive integer, got ${v}`);
  }
  if (length !== lowH * lowW)
    throw new Error(`upsample: got ${length} logits, expected ${lowH}×${lowW}`);
  if (resizedH > paddedSize || resizedW > paddedSize) {
    throw new Error(
      `upsample: resized ${resizedH}×${resizedW} exceeds the padded frame ${paddedSize}`,
    );
  }
}
