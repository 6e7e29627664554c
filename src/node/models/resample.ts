/**
 * Pillow's `Image.resize` (Resample.c), reproduced exactly so the TypeScript inputs are bit-identical
 * to the Python training side (infra/models/shapesworld/preprocess.py), which uses PIL:
 * - BILINEAR on RGB uint8: antialiased triangle filter, 22-bit fixed-point coefficients, horizontal
 *   pass then vertical pass with uint8 rounding in between;
 * - BOX on float32 ("F" mode): each output averages the input pixels whose centre lies inside its
 *   window, float64 sums stored as float32 after each pass.
 * Why not sharp/libvips: its "linear" kernel is a different (shrink + reduce) pipeline whose output
 * differs from PIL's by a few levels; exactness costs only O(pixels) JS here (few ms at 1 MP).
 * Pure code: no Node APIs.
 */

/** Per output index: first input index, tap count and `ksize` normalised weights (row-major). */
export interface Coeffs {
  outSize: number;
  ksize: number;
  /** `[outSize, 2]`: xmin, count. */
  bounds: Int32Array;
  /** `[outSize, ksize]` float64 weights summing to 1 per output. */
  weights: Float64Array;
}

export type Filter = "bilinear" | "box";

const SUPPORT: Record<Filter, number> = { bilinear: 1, box: 0.5 };

function filterAt(filter: Filter, x: number): number {
  if (filter === "box") return x > -0.5 && x <= 0.5 ? 1 : 0;
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/** Pillow's `precompute_coeffs` for `inSize → outSize` over the whole input. */
export function precomputeCoeffs(inSize: number, outSize: number, filter: Filter): Coeffs {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT[filter] * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    const base = xx * ksize;
    for (let x = 0; x < count; x++) {
      const w = filterAt(filter, (x + xmin - center + 0.5) * ss);
      weights[base + x] = w;
      ww += w;
    }
    if (ww !== 0) for (let x = 0; x < count; x++) weights[base + x]! /= ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = count;
  }
  return { outSize, ksize, bounds, weights };
}

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);

/** Pillow's `normalize_coeffs_8bpc`: weights as 22-bit fixed point, rounded half away from zero. */
function fixedPointWeights(c: Coeffs): Int32Array {
  const out = new Int32Array(c.weights.length);
  const one = 1 << PRECISION_BITS;
  for (let i = 0; i < out.length; i++) {
    const v = c.weights[i]!;
    out[i] = v < 0 ? Math.trunc(-0.5 + v * one) : Math.trunc(0.5 + v * one);
  }
  return out;
}

function clip8(v: number): number {
  const s = v >> PRECISION_BITS;
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/**
 * PIL BILINEAR resize of an RGB uint8 image given row by row: `row(y)` returns input row `y` as
 * `[inW, 3]` interleaved uint8 (it may reuse one buffer). Returns `[outH, outW, 3]` uint8 (HWC).
 * A pass whose size does not change is skipped, as Pillow does. `isPaddingRow(y)` true promises
 * that row `y` equals every other such row (a padded canvas's constant rows): their horizontal
 * pass is computed once and copied.
 */
export function resizeRgbBilinear(
  row: (y: number) => Uint8Array,
  inW: number,
  inH: number,
  outW: number,
  outH: number,
  isPaddingRow: (y: number) => boolean = () => false,
): Uint8Array {
  const cv = precomputeCoeffs(inH, outH, "bilinear");
  const kv = fixedPointWeights(cv);
  const yFirst = cv.bounds[0]!;
  const yLast = cv.bounds[(outH - 1) * 2]! + cv.bounds[(outH - 1) * 2 + 1]!;
  // Horizontal pass over the rows the vertical pass reads: [yLast − yFirst, outW, 3].
  const temp = new Uint8Array((yLast - yFirst) * outW * 3);
  if (outW === inW) {
    for (let y = yFirst; y < yLast; y++) temp.set(row(y).subarray(0, inW * 3), (y - yFirst) * outW * 3);
  } else {
    const ch = precomputeCoeffs(inW, outW, "bilinear");
    const kh = fixedPointWeights(ch);
    const rowBytes = outW * 3;
    let padding = -1; // offset in `temp` of the padding row's horizontal pass, once computed
    for (let y = yFirst; y < yLast; y++) {
      const at = (y - yFirst) * rowBytes;
      if (!isPaddingRow(y)) horizontalRow(row(y), ch, kh, temp, at);
      else if (padding >= 0) temp.copyWithin(at, padding, padding + rowBytes);
      else horizontalRow(row(y), ch, kh, temp, (padding = at));
    }
  }
  if (outH === inH) return temp;
  return verticalPass(temp, cv, kv, yFirst, outW * 3, outH);
}

/**
 * Pillow's vertical pass over `temp` (rows from `yFirst` on): each output value sums its column's
 * `count` input rows (rows stride apart) in one sweep, then rounds like `clip8`.
 * Accumulators are int32 (`Math.imul`, `| 0`), as Pillow's are: the weights are non-negative and sum
 * to about 2^22, so a sum stays below 256 · 2^22 + HALF < 2^31 and the integer arithmetic is exact,
 * and V8 keeps it in integer registers (with the single sweep ≈ 10–20 % faster than float64
 * row-at-a-time sums, measured on the shapes images).
 */
function verticalPass(temp: Uint8Array, cv: Coeffs, kv: Int32Array, yFirst: number, stride: number, outH: number): Uint8Array {
  const out = new Uint8Array(outH * stride);
  for (let yy = 0; yy < outH; yy++) {
    const base = (cv.bounds[yy * 2]! - yFirst) * stride, count = cv.bounds[yy * 2 + 1]!, k = yy * cv.ksize;
    const dst = yy * stride;
    for (let i = 0; i < stride; i++) {
      let s = HALF;
      for (let t = 0, p = base + i; t < count; t++, p += stride) s = (s + Math.imul(temp[p]!, kv[k + t]!)) | 0;
      out[dst + i] = clip8(s);
    }
  }
  return out;
}

function horizontalRow(src: Uint8Array, c: Coeffs, k: Int32Array, dst: Uint8Array, offset: number): void {
  for (let xx = 0; xx < c.outSize; xx++) {
    const xmin = c.bounds[xx * 2]!, count = c.bounds[xx * 2 + 1]!, kb = xx * c.ksize;
    let s0 = HALF, s1 = HALF, s2 = HALF;
    for (let t = 0, p = xmin * 3; t < count; t++, p += 3) {
      const w = k[kb + t]!;
      s0 = (s0 + Math.imul(src[p]!, w)) | 0;
      s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
      s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
    }
    const o = offset + xx * 3;
    dst[o] = clip8(s0);
    dst[o + 1] = clip8(s1);
    dst[o + 2] = clip8(s2);
  }
}
