/**
 * Pixel count and box of SAM's UPSAMPLED mask `postprocess_masks(logits) > threshold`, computed
 * from the low-res logits without upsampling the whole mask.
 *
 * SAM computes its stability score and the boxes for NMS and the crop-edge filter on the masks
 * upsampled to the crop's size. Both only need how many pixels are above a threshold and where
 * the outermost ones are. Blocks of output pixels whose low-res taps are all clearly above (or
 * all clearly below) the threshold are counted whole (src/lib/amg/axis-segments.ts); only blocks
 * along the threshold crossing are interpolated, pixel by pixel, with the same arithmetic as
 * `upsampleLowResLogitsToMask`, so the result equals counting that function's mask.
 */
import { composedTaps, MAX_TAPS, type AxisTaps } from "../masks/resize.js";
import type { BoxXyxy } from "../masks/types.js";
import { axisSegments, firstAtLeast, lastAtMost, type AxisSegments } from "./axis-segments.js";

/** Sizes of SAM's two-stage resize for one encoded image (or crop). */
export interface UpsampleGeometry {
  /** Low-res logit plane `[lowH, lowW]` over the padded frame. */
  lowH: number;
  lowW: number;
  /** Padded encoder frame side `S` (1024 for SAM). */
  paddedSize: number;
  /** Un-padded part of the frame (SAM's `input_size`). */
  resizedH: number;
  resizedW: number;
  /** Output size: the image or crop that was encoded. */
  outH: number;
  outW: number;
}

/** Foreground pixel count and tight box (inclusive max coordinates; null when empty). */
export interface UpsampledCount {
  count: number;
  box: BoxXyxy | null;
}

/**
 * Count the pixels of the upsampled `[outH, outW]` mask `up > float32(threshold)` and their tight
 * box, where `up` is SAM's `postprocess_masks` of the row-major `[lowH, lowW]` logit plane that
 * starts at `offset` in `logits`.
 */
export function countUpsampledAbove(
  logits: Float32Array,
  offset: number,
  g: UpsampleGeometry,
  threshold: number,
): UpsampledCount {
  if (offset < 0 || offset + g.lowH * g.lowW > logits.length)
    throw new Error(`countUpsampledAbove: plane at ${offset} outside ${logits.length} logits`);
  const rows = segmentsOf(composedTaps(g.lowH, g.paddedSize, g.resizedH, g.outH), g.outH);
  const cols = segmentsOf(composedTaps(g.lowW, g.paddedSize, g.resizedW, g.outW), g.outW);
  const t = Math.fround(threshold);
  // Cells within `margin` of the threshold are never taken as certain: float64 weights that sum
  // to 1 ± a few ulps could otherwise tip an interpolated value equal to `t` across it.
  const margin = 1e-6 * Math.max(1, Math.abs(t));
  const nc = cols.hi[cols.n - 1]! + 1;
  const runs = rowRuns(
    logits,
    offset,
    g.lowW,
    rows.hi[rows.n - 1]! + 1,
    nc,
    t + margin,
    t - margin,
  );
  const acc = { count: 0, x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  for (let rs = 0; rs < rows.n; rs++) {
    let any = runs.maybe[rows.lo[rs]!]!,
      all = runs.sure[rows.lo[rs]!]!;
    for (let r = rows.lo[rs]! + 1; r <= rows.hi[rs]!; r++) {
      any = unionRuns(any, runs.maybe[r]!);
      all = intersectRuns(all, runs.sure[r]!);
    }
    if (any.length === 0) continue;
    const certain = certainSegments(all, cols);
    const y0 = rows.start[rs]!,
      y1 = rows.end[rs]! - 1;
    let ci = 0;
    for (const [p0, p1] of possibleSegments(any, cols)) {
      for (let s = p0; s <= p1;) {
        while (ci < certain.length && certain[ci]![1] < s) ci++;
        const c = certain[ci];
        if (c && c[0] <= s) {
          const e = Math.min(c[1], p1);
          const x0 = cols.start[s]!,
            x1 = cols.end[e]! - 1;
          acc.count += (x1 - x0 + 1) * (y1 - y0 + 1);
          grow(acc, x0, y0, x1, y1);
          s = e + 1;
        } else {
          countBlock(
            logits,
            offset,
            g.lowW,
            rows.taps,
            cols.taps,
            [cols.start[s]!, y0, cols.end[s]! - 1, y1],
            t,
            acc,
          );
          s++;
        }
      }
    }
  }
  const box: BoxXyxy | null = acc.count > 0 ? [acc.x0, acc.y0, acc.x1, acc.y1] : null;
  return { count: acc.count, box };
}

const segmentCache = new WeakMap<AxisTaps, AxisSegments>();

function segmentsOf(taps: AxisTaps, outSize: number): AxisSegments {
  let seg = segmentCache.get(taps);
  if (!seg) segmentCache.set(taps, (seg = axisSegments(taps, outSize)));
  return seg;
}

/** Half-open column runs `[a0, b0, a1, b1, …]` per low-res row: `sure` of logits > `hi`, `maybe` of > `lo`. */
function rowRuns(
  logits: Float32Array,
  offset: number,
  rowStride: number,
  nRows: number,
  nCols: number,
  hi: number,
  lo: number,
): { sure: number[][]; maybe: number[][] } {
  const sure: number[][] = [],
    maybe: number[][] = [];
  for (let r = 0; r < nRows; r++) {
    const base = offset + r * rowStride;
    const s: number[] = [],
      m: number[] = [];
    let openS = -1,
      openM = -1;
    for (let j = 0; j < nCols; j++) {
      const v = logits[base + j]!;
      if (v > lo && openM < 0) openM = j;
      if (v > hi && openS < 0) openS = j;
      if (!(v > lo) && openM >= 0) {
        m.push(openM, j);
        openM = -1;
      }
      if (!(v > hi) && openS >= 0) {
        s.push(openS, j);
        openS = -1;
      }
    }
    if (openM >= 0) m.push(openM, nCols);
    if (openS >= 0) s.push(openS, nCols);
    sure.push(s);
    maybe.push(m);
  }
  return { sure, maybe };
}

/** Union of two sorted lists of disjoint half-open runs. */
export function unionRuns(a: readonly number[], b: readonly number[]): number[] {
  if (a.length === 0) return b as number[];
  if (b.length === 0) return a as number[];
  const out: number[] = [];
  let i = 0,
    j = 0;
  while (i < a.length || j < b.length) {
    const takeA = j >= b.length || (i < a.length && a[i]! <= b[j]!);
    const s = takeA ? a[i]! : b[j]!,
      e = takeA ? a[i + 1]! : b[j + 1]!;
    if (takeA) i += 2;
    else j += 2;
    if (out.length > 0 && s <= out[out.length - 1]!)
      out[out.length - 1] = Math.max(out[out.length - 1]!, e);
    else out.push(s, e);
  }
  return out;
}

/** Intersection of two sorted lists of disjoint half-open runs. */
export function intersectRuns(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0,
    j = 0;
  while (i < a.length && j < b.length) {
    const s = Math.max(a[i]!, b[j]!),
      e = Math.min(a[i + 1]!, b[j + 1]!);
    if (s < e) out.push(s, e);
    if (a[i + 1]! < b[j + 1]!) i += 2;
    else j += 2;
  }
  return out;
}

/** Inclusive column-segment ranges lying wholly inside a run of `all` (sorted, disjoint). */
function certainSegments(all: readonly number[], cols: AxisSegments): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < all.length; k += 2) {
    const c0 = firstAtLeast(cols.lo, cols.n, all[k]!),
      c1 = lastAtMost(cols.hi, cols.n, all[k + 1]! - 1);
    if (c0 <= c1) out.push([c0, c1]);
  }
  return out;
}

/** Inclusive column-segment ranges touching a run of `any`, merged where they overlap. */
function possibleSegments(any: readonly number[], cols: AxisSegments): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < any.length; k += 2) {
    const p0 = firstAtLeast(cols.hi, cols.n, any[k]!),
      p1 = lastAtMost(cols.lo, cols.n, any[k + 1]! - 1);
    if (p0 > p1) continue;
    const last = out[out.length - 1];
    if (last && p0 <= last[1]) last[1] = Math.max(last[1], p1);
    else out.push([p0, p1]);
  }
  return out;
}

interface Accumulator {
  count: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function grow(acc: Accumulator, x0: number, y0: number, x1: number, y1: number): void {
  if (x0 < acc.x0) acc.x0 = x0;
  if (y0 < acc.y0) acc.y0 = y0;
  if (x1 > acc.x1) acc.x1 = x1;
  if (y1 > acc.y1) acc.y1 = y1;
}

/**
 * Interpolate each pixel of the inclusive output block and count those `> t`. Same operations in
 * the same order as resize.ts's `upsampleRows` (horizontal taps summed from 0, then the vertical
 * taps), so each value is bit-identical to the full upsampling's.
 */
function countBlock(
  logits: Float32Array,
  offset: number,
  lowW: number,
  ty: AxisTaps,
  tx: AxisTaps,
  [bx0, by0, bx1, by1]: BoxXyxy,
  t: number,
  acc: Accumulator,
): void {
  for (let y = by0; y <= by1; y++) {
    const ny = ty.count[y]!;
    for (let x = bx0; x <= bx1; x++) {
      const nx = tx.count[x]!;
      let v = 0;
      for (let ky = 0; ky < ny; ky++) {
        const rowBase = offset + ty.index[y * MAX_TAPS + ky]! * lowW;
        let h = 0;
        for (let kx = 0; kx < nx; kx++)
          h += tx.weight[x * MAX_TAPS + kx]! * logits[rowBase + tx.index[x * MAX_TAPS + kx]!]!;
        v = ky === 0 ? ty.weight[y * MAX_TAPS]! * h : v + ty.weight[y * MAX_TAPS + ky]! * h;
      }
      if (v > t) {
        acc.count++;
        grow(acc, x, y, x, y);
      }
    }
  }
}
