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
import { composedTaps, MAX_TAPS, upsampleRows, type AxisTaps } from "../masks/resize.js";
import type { BoxXyxy } from "../masks/types.js";
import { axisSegments, type AxisSegments } from "./axis-segments.js";

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
  return countUpsampledAboveEach(logits, offset, g, [threshold])[0]!;
}

/**
 * `countUpsampledAbove` for several thresholds in one pass over the plane (each block along a
 * crossing is interpolated once for all of them). Results are in the order of `thresholds`.
 */
export function countUpsampledAboveEach(
  logits: Float32Array,
  offset: number,
  g: UpsampleGeometry,
  thresholds: readonly number[],
): UpsampledCount[] {
  return tallyUpsampledAbove(logits, offset, g, thresholds).exact();
}

/** Bounds from the blocks decided without interpolating, and the exact counts on demand. */
export interface UpsampledTally {
  /** Per threshold (in the order given): pixels surely above it … */
  lower: number[];
  /** … and at most this many. */
  upper: number[];
  /** Interpolate the undecided blocks: exact counts and boxes (computed once). */
  exact(): UpsampledCount[];
}

/**
 * First half of `countUpsampledAboveEach`: decide every block that can be decided from the low-res
 * cells alone, giving bounds on each count; `exact()` then interpolates the rest. A caller whose
 * filter fails on the bounds (a stability score that cannot reach its threshold) skips that work.
 */
export function tallyUpsampledAbove(
  logits: Float32Array,
  offset: number,
  g: UpsampleGeometry,
  thresholds: readonly number[],
): UpsampledTally {
  if (offset < 0 || offset + g.lowH * g.lowW > logits.length)
    throw new Error(`countUpsampledAbove: plane at ${offset} outside ${logits.length} logits`);
  const levels = [...new Set(thresholds.map((t) => Math.fround(t)))].sort((a, b) => a - b);
  // Cells within `margin` of a threshold are never taken as certain: float64 weights that sum to
  // 1 ± a few ulps could otherwise tip an interpolated value equal to it across.
  const margin = 1e-6 * Math.max(1, ...levels.map(Math.abs));
  if (levels.some((t, k) => k > 0 && t - levels[k - 1]! <= 2 * margin)) {
    // Levels too close for one code per cell: count them one by one, exactly.
    const counts = thresholds.map(
      (t) => tallyLevels(logits, offset, g, [Math.fround(t)], margin).exact()[0]!,
    );
    const n = counts.map((c) => c.count);
    return { lower: n, upper: n, exact: () => counts };
  }
  const tally = tallyLevels(logits, offset, g, levels, margin);
  const pick = <T>(v: T[]) => thresholds.map((t) => v[levels.indexOf(Math.fround(t))]!);
  let done: UpsampledCount[] | undefined;
  return {
    lower: pick(tally.lower),
    upper: pick(tally.upper),
    exact: () => (done ??= pick(tally.exact())),
  };
}

/**
 * Above this share of the window's pixels left undecided (noisy logits crossing a threshold almost
 * everywhere), one plain windowed upsampling is cheaper than interpolating block by block: the
 * blocks' horizontal passes overlap, and the plain pass reads each low-res row once.
 */
const WINDOW_PASS_SHARE = 0.25;

const segmentCache = new WeakMap<AxisTaps, AxisSegments>();

function segmentsOf(taps: AxisTaps, outSize: number): AxisSegments {
  let seg = segmentCache.get(taps);
  if (!seg) segmentCache.set(taps, (seg = axisSegments(taps, outSize)));
  return seg;
}

/** Reused scratch buffers (grown on demand; this code never re-enters itself). */
let codeBuf = new Uint8Array(0);
let colMinBuf = new Uint8Array(0);
let colMaxBuf = new Uint8Array(0);
let blockBuf = new Float64Array(0);

/**
 * Counts and boxes for ascending `levels` that are more than `2·margin` apart. Each low-res cell
 * gets a code: +1 per level it is above minus `margin`, +1 more per level it is above plus
 * `margin`; so a range of cells is surely above level k when its smallest code is ≥ 2k + 2 and
 * surely not above it when its largest code is ≤ 2k.
 */
function tallyLevels(
  logits: Float32Array,
  offset: number,
  g: UpsampleGeometry,
  levels: readonly number[],
  margin: number,
): UpsampledTally {
  const rows = segmentsOf(composedTaps(g.lowH, g.paddedSize, g.resizedH, g.outH), g.outH);
  const cols = segmentsOf(composedTaps(g.lowW, g.paddedSize, g.resizedW, g.outW), g.outW);
  const nr = rows.hi[rows.n - 1]! + 1,
    nc = cols.hi[cols.n - 1]! + 1;
  const n = levels.length;
  const acc = newAccumulators(n);
  // Codes, and the low-res box of cells above the lowest level minus the margin (nothing outside
  // it can count).
  if (codeBuf.length < nr * nc) codeBuf = new Uint8Array(nr * nc);
  const code = codeBuf;
  // Ascending cuts t0 − m, t0 + m, t1 − m, …: a cell's code is how many it is above.
  const cuts = Float64Array.from(levels.flatMap((t) => [t - margin, t + margin]));
  const first = cuts[0]!;
  let bx0 = nc,
    by0 = nr,
    bx1 = -1,
    by1 = -1;
  for (let r = 0; r < nr; r++) {
    const src = offset + r * g.lowW,
      dst = r * nc;
    for (let j = 0; j < nc; j++) {
      const v = logits[src + j]!;
      if (!(v > first)) {
        code[dst + j] = 0; // the common case: below every cut
        continue;
      }
      let c = 1;
      while (c < cuts.length && v > cuts[c]!) c++;
      code[dst + j] = c;
      if (j < bx0) bx0 = j;
      if (j > bx1) bx1 = j;
      if (r < by0) by0 = r;
      by1 = r;
    }
  }
  const finish = () => toCounts(acc);
  if (bx1 < 0) return { lower: levels.map(() => 0), upper: levels.map(() => 0), exact: finish };
  if (colMinBuf.length < nc) {
    colMinBuf = new Uint8Array(nc);
    colMaxBuf = new Uint8Array(nc);
  }
  const colMin = colMinBuf,
    colMax = colMaxBuf;
  // Undecided blocks, as runs of adjacent column segments: [row segment, first, last, …].
  const runs: number[] = [];
  let undecided = 0;
  const s0 = firstSegmentReaching(cols, bx0),
    s1 = lastSegmentReaching(cols, bx1);
  for (
    let rs = firstSegmentReaching(rows, by0), rsEnd = lastSegmentReaching(rows, by1);
    rs <= rsEnd;
    rs++
  ) {
    const r0 = rows.lo[rs]!,
      r1 = rows.hi[rs]!,
      y0 = rows.start[rs]!,
      y1 = rows.end[rs]! - 1;
    const c0 = cols.lo[s0]!,
      c1 = cols.hi[s1]!;
    for (let j = c0; j <= c1; j++) {
      let mn = code[r0 * nc + j]!,
        mx = mn;
      for (let r = r0 + 1; r <= r1; r++) {
        const c = code[r * nc + j]!;
        if (c < mn) mn = c;
        if (c > mx) mx = c;
      }
      colMin[j] = mn;
      colMax[j] = mx;
    }
    for (let cs = s0; cs <= s1;) {
      // Fast path: a span of columns whose rows all have the same even code (decided for every
      // level) covers its whole segments at once.
      const j = cols.lo[cs]!,
        c = colMin[j]!;
      if (c === colMax[j] && c % 2 === 0) {
        let e = j;
        while (e < c1 && colMin[e + 1] === c && colMax[e + 1] === c) e++;
        const last = Math.min(s1, lastSegmentWithin(cols, e));
        if (last >= cs) {
          const x0 = cols.start[cs]!,
            x1 = cols.end[last]! - 1;
          for (let k = 0; k < n && c >= 2 * k + 2; k++) {
            acc[k]!.count += (x1 - x0 + 1) * (y1 - y0 + 1);
            grow(acc[k]!, x0, y0, x1, y1);
          }
          cs = last + 1;
          continue;
        }
      }
      const pixels = decideSegmentPair(rows, cols, rs, cs, colMin, colMax, n, acc);
      if (pixels > 0) {
        // Undecided: joins the pending run of this row segment when adjacent to it.
        const last = runs.length - 3;
        if (last >= 0 && runs[last] === rs && runs[last + 2] === cs - 1) runs[last + 2] = cs;
        else runs.push(rs, cs, cs);
        undecided += pixels;
      }
      cs++;
    }
  }
  const lower = acc.map((a) => a.count);
  const window: BoxXyxy = [
    cols.start[s0]!,
    rows.start[firstSegmentReaching(rows, by0)]!,
    cols.end[s1]! - 1,
    rows.end[lastSegmentReaching(rows, by1)]! - 1,
  ];
  const windowPixels = (window[2] - window[0] + 1) * (window[3] - window[1] + 1);
  return {
    lower,
    upper: lower.map((c) => c + undecided),
    exact() {
      if (undecided > WINDOW_PASS_SHARE * windowPixels)
        return countWindow(logits, offset, g, levels, window);
      for (let k = 0; k < runs.length; k += 3) {
        const rs = runs[k]!;
        countBlock(
          logits,
          offset,
          g.lowW,
          rows.taps,
          cols.taps,
          cols.start[runs[k + 1]!]!,
          rows.start[rs]!,
          cols.end[runs[k + 2]!]! - 1,
          rows.end[rs]! - 1,
          levels,
          acc,
        );
      }
      runs.length = 0;
      return finish();
    },
  };
}

/**
 * Decide one row segment × column segment block for every level from its cells' codes: counted
 * whole where all levels are decided (returns 0), else left alone (returns its pixel count).
 */
function decideSegmentPair(
  rows: AxisSegments,
  cols: AxisSegments,
  rs: number,
  cs: number,
  colMin: Uint8Array,
  colMax: Uint8Array,
  n: number,
  acc: Accumulator[],
): number {
  let mn = 255,
    mx = 0;
  for (let j = cols.lo[cs]!, je = cols.hi[cs]!; j <= je; j++) {
    if (colMin[j]! < mn) mn = colMin[j]!;
    if (colMax[j]! > mx) mx = colMax[j]!;
  }
  const x0 = cols.start[cs]!,
    x1 = cols.end[cs]! - 1,
    y0 = rows.start[rs]!,
    y1 = rows.end[rs]! - 1;
  for (let k = 0; k < n; k++)
    if (mn < 2 * k + 2 && mx > 2 * k) return (x1 - x0 + 1) * (y1 - y0 + 1);
  for (let k = 0; k < n && mn >= 2 * k + 2; k++) {
    acc[k]!.count += (x1 - x0 + 1) * (y1 - y0 + 1);
    grow(acc[k]!, x0, y0, x1, y1);
  }
  return 0;
}

/** Last segment whose whole range lies at or before low-res index `i` (`hi <= i`; −1 if none). */
function lastSegmentWithin(seg: AxisSegments, i: number): number {
  let a = -1,
    b = seg.n - 1;
  while (a < b) {
    const m = (a + b + 1) >> 1;
    if (seg.hi[m]! <= i) a = m;
    else b = m - 1;
  }
  return a;
}

/** First segment whose range reaches low-res index `i` or beyond (`hi >= i`). */
function firstSegmentReaching(seg: AxisSegments, i: number): number {
  let a = 0,
    b = seg.n - 1;
  while (a < b) {
    const m = (a + b) >> 1;
    if (seg.hi[m]! >= i) b = m;
    else a = m + 1;
  }
  return a;
}

/** Last segment whose range starts at or before low-res index `i` (`lo <= i`). */
function lastSegmentReaching(seg: AxisSegments, i: number): number {
  let a = 0,
    b = seg.n - 1;
  while (a < b) {
    const m = (a + b + 1) >> 1;
    if (seg.lo[m]! <= i) a = m;
    else b = m - 1;
  }
  return a;
}

/**
 * Counts and boxes for `levels` from one plain upsampling of the output `window` (inclusive), the
 * arithmetic of `upsampleLowResLogitsToMask`; outside the window nothing is above the lowest level.
 */
function countWindow(
  logits: Float32Array,
  offset: number,
  g: UpsampleGeometry,
  levels: readonly number[],
  window: BoxXyxy,
): UpsampledCount[] {
  const n = levels.length;
  const acc = newAccumulators(n);
  const plane = logits.subarray(offset, offset + g.lowH * g.lowW);
  const x0 = window[0];
  const emit = (y: number, row: Float64Array) => {
    for (let i = 0; i < row.length; i++) {
      const v = row[i]!;
      for (let k = 0; k < n && v > levels[k]!; k++) {
        const a = acc[k]!;
        a.count++;
        if (x0 + i < a.x0) a.x0 = x0 + i;
        if (x0 + i > a.x1) a.x1 = x0 + i;
        if (y < a.y0) a.y0 = y;
        a.y1 = y;
      }
    }
  };
  upsampleRows(
    plane,
    g.lowH,
    g.lowW,
    g.paddedSize,
    g.resizedH,
    g.resizedW,
    g.outH,
    g.outW,
    emit,
    window,
  );
  return toCounts(acc);
}

interface Accumulator {
  count: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function newAccumulators(n: number): Accumulator[] {
  return Array.from({ length: n }, () => ({
    count: 0,
    x0: Infinity,
    y0: Infinity,
    x1: -1,
    y1: -1,
  }));
}

function toCounts(acc: readonly Accumulator[]): UpsampledCount[] {
  return acc.map((a) => ({ count: a.count, box: a.count > 0 ? [a.x0, a.y0, a.x1, a.y1] : null }));
}

function grow(acc: Accumulator, x0: number, y0: number, x1: number, y1: number): void {
  if (x0 < acc.x0) acc.x0 = x0;
  if (y0 < acc.y0) acc.y0 = y0;
  if (x1 > acc.x1) acc.x1 = x1;
  if (y1 > acc.y1) acc.y1 = y1;
}

/**
 * Interpolate each pixel of the inclusive output block `[bx0, bx1] × [by0, by1]` and count it for
 * every level it exceeds. The same operations in the same order as resize.ts's `upsampleRows`
 * (each low-res row's horizontal taps summed from 0, then the vertical taps), so each value is
 * bit-identical to the full upsampling's.
 */
function countBlock(
  logits: Float32Array,
  offset: number,
  lowW: number,
  ty: AxisTaps,
  tx: AxisTaps,
  bx0: number,
  by0: number,
  bx1: number,
  by1: number,
  levels: readonly number[],
  acc: Accumulator[],
): void {
  // Low-res rows read by the block's rows (zero-weight taps included, as the reference reads them).
  let r0 = Infinity,
    r1 = -1;
  for (let y = by0; y <= by1; y++) {
    for (let k = 0, c = ty.count[y]!; k < c; k++) {
      const r = ty.index[y * MAX_TAPS + k]!;
      if (r < r0) r0 = r;
      if (r > r1) r1 = r;
    }
  }
  const width = bx1 - bx0 + 1;
  if (blockBuf.length < (r1 - r0 + 1) * width)
    blockBuf = new Float64Array((r1 - r0 + 1) * width * 2);
  const h = blockBuf;
  for (let r = r0; r <= r1; r++) {
    const src = offset + r * lowW,
      dst = (r - r0) * width - bx0;
    for (let x = bx0; x <= bx1; x++) {
      let a = 0;
      for (let k = 0, c = tx.count[x]!; k < c; k++)
        a += tx.weight[x * MAX_TAPS + k]! * logits[src + tx.index[x * MAX_TAPS + k]!]!;
      h[dst + x] = a;
    }
  }
  const n = levels.length;
  for (let y = by0; y <= by1; y++) {
    const ny = ty.count[y]!,
      t = y * MAX_TAPS;
    for (let x = bx0; x <= bx1; x++) {
      let v = ty.weight[t]! * h[(ty.index[t]! - r0) * width + x - bx0]!;
      for (let k = 1; k < ny; k++)
        v += ty.weight[t + k]! * h[(ty.index[t + k]! - r0) * width + x - bx0]!;
      for (let k = 0; k < n && v > levels[k]!; k++) {
        acc[k]!.count++;
        grow(acc[k]!, x, y, x, y);
      }
    }
  }
}
