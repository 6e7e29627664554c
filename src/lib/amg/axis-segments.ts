/**
 * Per-axis grouping of SAM's upsampled pixels by the low-res logits they can read.
 *
 * Each output index of the composed two-stage bilinear resize (src/lib/masks/resize.ts) reads a
 * few consecutive low-res indices. Consecutive output indices that read the same index range form
 * a segment; along one axis there are about one or two segments per low-res index. A block of
 * output pixels (row segment × column segment) whose low-res range is all above a threshold is all
 * above it after upsampling (each value is a convex combination of its taps), and all below when
 * the range is all below: only blocks that straddle the threshold need the interpolation itself.
 */
import { MAX_TAPS, type AxisTaps } from "../masks/resize.js";

/** Segments of one axis, in output order; `lo` and `hi` are non-decreasing. */
export interface AxisSegments {
  /** Number of segments. */
  n: number;
  /** Inclusive low-res index range `[lo, hi]` read (with non-zero weight) by every index of the segment. */
  lo: Int32Array;
  hi: Int32Array;
  /** Output indices `[start, end)` of the segment. */
  start: Int32Array;
  end: Int32Array;
  /** The taps the segments were made from (every tap, zero weights included). */
  taps: AxisTaps;
}

/**
 * Group the output indices of `taps` (`outSize` of them) into segments. Ranges are widened where
 * needed to keep `lo` and `hi` non-decreasing (a wider range only makes a block less often
 * "certain", never wrongly so).
 */
export function axisSegments(taps: AxisTaps, outSize: number): AxisSegments {
  const lo = new Int32Array(outSize),
    hi = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let a = Infinity,
      b = -Infinity;
    for (let k = 0, n = taps.count[o]!; k < n; k++) {
      if (taps.weight[o * MAX_TAPS + k] === 0) continue;
      const i = taps.index[o * MAX_TAPS + k]!;
      if (i < a) a = i;
      if (i > b) b = i;
    }
    lo[o] = a;
    hi[o] = b;
  }
  for (let o = 1; o < outSize; o++) if (hi[o]! < hi[o - 1]!) hi[o] = hi[o - 1]!;
  for (let o = outSize - 2; o >= 0; o--) if (lo[o]! > lo[o + 1]!) lo[o] = lo[o + 1]!;
  const starts: number[] = [];
  for (let o = 0; o < outSize; o++) {
    if (o === 0 || lo[o] !== lo[o - 1] || hi[o] !== hi[o - 1]) starts.push(o);
  }
  const n = starts.length;
  const seg: AxisSegments = {
    n,
    lo: new Int32Array(n),
    hi: new Int32Array(n),
    start: Int32Array.from(starts),
    end: new Int32Array(n),
    taps,
  };
  for (let s = 0; s < n; s++) {
    seg.end[s] = s + 1 < n ? starts[s + 1]! : outSize;
    seg.lo[s] = lo[starts[s]!]!;
    seg.hi[s] = hi[starts[s]!]!;
  }
  return seg;
}

/** Smallest segment index `s` with `arr[s] >= v` (`n` when none). */
export function firstAtLeast(arr: Int32Array, n: number, v: number): number {
  let a = 0,
    b = n;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (arr[mid]! >= v) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** Largest segment index `s` with `arr[s] <= v` (−1 when none). */
export function lastAtMost(arr: Int32Array, n: number, v: number): number {
  return firstAtLeast(arr, n, v + 1) - 1;
}
