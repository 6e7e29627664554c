/**
 * Region alpha for Alpha-CLIP (docs/model-pack.md "Embedder"): the binary mask pasted on an L×L
 * zero canvas at the image's centring offset, resized to E×E by area averaging (Pillow's BOX filter
 * on a float image, exactly as the Python side does), then normalised `(a − mean) / std`.
 * Pure code: no Node APIs.
 */
import { precomputeCoeffs, type Coeffs } from "./resample.js";

/** Centred square canvas: side `L = max(H, W)`, image at `(ox, oy) = (floor((L−W)/2), floor((L−H)/2))`. */
export interface PadGeometry {
  size: number;
  offsetX: number;
  offsetY: number;
}

export function padToSquareGeometry(height: number, width: number): PadGeometry {
  const size = Math.max(height, width);
  return { size, offsetX: Math.floor((size - width) / 2), offsetY: Math.floor((size - height) / 2) };
}

/** Inclusive pixel bounds of a mask's foreground, or null when empty. */
export interface MaskBounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Rasterises region alphas of one image; the box-filter coefficients (L → E) are computed once
 * and reused for every region. Scratch buffers are reused too: not safe for concurrent use.
 */
export class AlphaRasterizer {
  readonly pad: PadGeometry;
  private readonly coeffs: Coeffs;
  /** Horizontal-pass result `[L, E]` (float32, as Pillow's intermediate "F" image). */
  private readonly temp: Float32Array;
  /** Prefix sums of one mask row inside the bounds, `[W + 1]`. */
  private readonly prefix: Int32Array;
  /** Per output column: the common weight of its window's taps, or NaN when they differ. */
  private readonly uniform: Float64Array;

  constructor(
    readonly height: number,
    readonly width: number,
    readonly outSize: number,
    readonly mean: number,
    readonly std: number,
  ) {
    this.pad = padToSquareGeometry(height, width);
    this.coeffs = precomputeCoeffs(this.pad.size, outSize, "box");
    this.temp = new Float32Array(this.pad.size * outSize);
    this.prefix = new Int32Array(width + 1);
    this.uniform = uniformWeights(this.coeffs);
  }

  /**
   * Raw alpha fractions in 0..1 of a row-major `[H, W]` 0/1 mask, written as `[E, E]` row-major
   * float32 into `out` at `offset`. `bounds` (inclusive, from the mask) limits the work to the
   * rows the mask touches; pass null to scan the whole mask.
   */
  fractions(mask: Uint8Array, bounds: MaskBounds | null, out: Float32Array, offset: number): void {
    const { height: h, width: w, outSize: e } = this;
    if (mask.length !== h * w) throw new Error(`AlphaRasterizer: mask has ${mask.length} values, expected ${h}×${w}`);
    const b = bounds ?? { x0: 0, y0: 0, x1: w - 1, y1: h - 1 };
    const { offsetX: ox, offsetY: oy } = this.pad;
    const { bounds: cb, weights, ksize } = this.coeffs;
    const temp = this.temp;
    temp.fill(0, (b.y0 + oy) * e, (b.y1 + oy + 1) * e);
    for (let y = b.y0; y <= b.y1; y++) {
      // Box weights are equal inside a window, so each output is (count of ones in window) × weight.
      // Only the bounds' columns can hold ones: windows are clipped to them, prefix sums cover them.
      const prefix = this.rowPrefix(mask, y, b.x0, b.x1);
      const row = (y + oy) * e;
      for (let xx = 0; xx < e; xx++) {
        const start = cb[xx * 2]! - ox;
        const lo = Math.max(start, b.x0), hi = Math.min(start + cb[xx * 2 + 1]!, b.x1 + 1);
        if (hi <= lo) continue;
        const u = this.uniform[xx]!;
        temp[row + xx] = u === u
          ? (prefix[hi - b.x0]! - prefix[lo - b.x0]!) * u
          : weightedWindow(mask, y * w, start, weights, xx * ksize, lo, hi);
      }
    }
    this.vertical(b.y0 + oy, b.y1 + oy, out, offset);
  }

  /** `fractions` then `(a − mean) / std`, as float32. */
  normalised(mask: Uint8Array, bounds: MaskBounds | null, out: Float32Array, offset: number): void {
    this.fractions(mask, bounds, out, offset);
    const { mean, std } = this;
    for (let i = offset, end = offset + this.outSize * this.outSize; i < end; i++) out[i] = (out[i]! - mean) / std;
  }

  /** Whole-image alpha: 1 everywhere, padding included, normalised. */
  full(out: Float32Array, offset: number): void {
    out.fill((1 - this.mean) / this.std, offset, offset + this.outSize * this.outSize);
  }

  /** `p[i]` = ones in mask columns `[x0, x0 + i)` of row `y`, for `i` in `0..x1 − x0 + 1`. */
  private rowPrefix(mask: Uint8Array, y: number, x0: number, x1: number): Int32Array {
    const p = this.prefix, base = y * this.width + x0;
    for (let i = 0; i <= x1 - x0; i++) p[i + 1] = p[i]! + (mask[base + i] ? 1 : 0);
    return p;
  }

  /** Vertical pass over canvas rows `[r0, r1]` of `temp` (other rows are zero) into `[E, E]`. */
  private vertical(r0: number, r1: number, out: Float32Array, offset: number): void {
    const e = this.outSize, { bounds: cb, weights, ksize } = this.coeffs, temp = this.temp;
    for (let yy = 0; yy < e; yy++) {
      const ymin = cb[yy * 2]!, count = cb[yy * 2 + 1]!, dst = offset + yy * e;
      const lo = Math.max(ymin, r0), hi = Math.min(ymin + count, r1 + 1);
      if (hi <= lo) {
        out.fill(0, dst, dst + e);
        continue;
      }
      for (let xx = 0; xx < e; xx++) {
        let ss = 0;
        for (let r = lo; r < hi; r++) ss += temp[r * e + xx]! * weights[yy * ksize + (r - ymin)]!;
        out[dst + xx] = ss;
      }
    }
  }
}

/** Per output: the weight all its taps share, NaN when they differ (a tap outside the box). */
function uniformWeights(c: Coeffs): Float64Array {
  const out = new Float64Array(c.outSize);
  for (let xx = 0; xx < c.outSize; xx++) {
    const kb = xx * c.ksize, count = c.bounds[xx * 2 + 1]!, w0 = c.weights[kb]!;
    let same = true;
    for (let t = 1; t < count; t++) if (c.weights[kb + t] !== w0) same = false;
    out[xx] = same ? w0 : NaN;
  }
  return out;
}

/** Σ mask·weight over mask columns `[lo, hi)` of one row; the window starts at mask column `start`. */
function weightedWindow(
  mask: Uint8Array, rowBase: number, start: number, weights: Float64Array, kb: number, lo: number, hi: number,
): number {
  let ss = 0;
  for (let x = lo; x < hi; x++) if (mask[rowBase + x]) ss += weights[kb + (x - start)]!;
  return ss;
}
