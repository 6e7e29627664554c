/**
 * COCO run-length encoding, byte-compatible with pycocotools (`maskApi.c`).
 *
 * Runs are counted over the mask in column-major (Fortran) order, i.e. pixel `(y, x)` of an
 * `H × W` mask is run position `x·H + y`. The first run is always zeros (length 0 when the mask
 * starts with a one). The string form stores each count (for index i > 2, the difference to the
 * count two positions back — same-parity runs tend to be similar) as little-endian groups of 5
 * bits; each group becomes one char `48 + bits`, with `0x20` set when more groups follow and
 * `0x10` of the last group acting as the sign bit.
 */
import { assertSize, CHAR_BASE, MORE_BIT, rleCountsFromString, SIGN_BIT } from "./rle-decode.js";
import type { BoxXywh, BoxXyxy, CocoRle } from "./types.js";

// Decoding lives in rle-decode.js, plain JavaScript that the search page runs in the browser as is.
export { rleCountsFromString, rleDecodeToRowMajor } from "./rle-decode.js";

/**
 * Run lengths of a row-major `[height, width]` mask read in column-major order, first run zeros.
 * Any nonzero byte counts as foreground. With `box` (inclusive `[x0, y0, x1, y1]` containing every
 * foreground pixel, e.g. the mask's own tight box) only the box is read and the zeros around it are
 * counted arithmetically: the same counts, at the cost of the box's area instead of the image's.
 */
export function rleCountsFromRowMajorMask(
  mask: Uint8Array,
  height: number,
  width: number,
  box?: BoxXyxy,
): number[] {
  assertSize(height, width);
  if (mask.length !== height * width) {
    throw new Error(
      `mask has ${mask.length} values, expected ${height}×${width} = ${height * width}`,
    );
  }
  if (height * width === 0) return [0];
  const [x0, y0, x1, y1] = box ?? [0, 0, width - 1, height - 1];
  if (x0 < 0 || y0 < 0 || x1 >= width || y1 >= height || x1 < x0 || y1 < y0) {
    throw new Error(`box [${x0}, ${y0}, ${x1}, ${y1}] is not inside a ${height}×${width} mask`);
  }
  const counts: number[] = [];
  let current = 0; // value of the run being counted; the first run is zeros by definition
  let run = 0;
  const zeros = (n: number): void => {
    if (n === 0) return;
    if (current !== 0) {
      counts.push(run);
      run = 0;
      current = 0;
    }
    run += n;
  };
  zeros(x0 * height);
  for (let x = x0; x <= x1; x++) {
    zeros(y0);
    for (let y = y0; y <= y1; y++) {
      const v = mask[y * width + x] ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
    zeros(height - 1 - y1);
  }
  zeros((width - 1 - x1) * height);
  counts.push(run);
  return counts;
}

/**
 * COCO compressed RLE of a row-major `[height, width]` 0/1 mask, exactly as pycocotools' `encode`.
 * `box` as in `rleCountsFromRowMajorMask` (a speed-up only; the result is the same).
 */
export function rleEncodeRowMajor(
  mask: Uint8Array,
  height: number,
  width: number,
  box?: BoxXyxy,
): CocoRle {
  const counts = rleCountsFromRowMajorMask(mask, height, width, box);
  return { size: [height, width], counts: rleCountsToString(counts) };
}

/** pycocotools' `rleToString`: run counts → compressed ASCII string. */
export function rleCountsToString(counts: readonly number[]): string {
  const chars: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] ?? 0;
    // Deltas against the same-parity run two back; pycocotools starts this at index 3, not 2.
    let x = i > 2 ? count - (counts[i - 2] ?? 0) : count;
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32; // low 5 bits of x in two's complement
      x = Math.floor(x / 32); // arithmetic shift right by 5, without 32-bit overflow
      more = c & SIGN_BIT ? x !== -1 : x !== 0;
      if (more) c |= MORE_BIT;
      chars.push(c + CHAR_BASE);
    }
  }
  return charCodesToString(chars);
}

/** `String.fromCharCode` in slices: spreading a huge array would overflow the argument limit. */
function charCodesToString(codes: readonly number[]): string {
  const SLICE = 8192;
  let out = "";
  for (let i = 0; i < codes.length; i += SLICE)
    out += String.fromCharCode(...codes.slice(i, i + SLICE));
  return out;
}

/** Foreground pixel count of a COCO RLE (pycocotools `area`): the sum of the odd-indexed runs. */
export function rleArea(rle: CocoRle): number {
  const counts = rleCountsFromString(rle.counts);
  let area = 0;
  for (let i = 1; i < counts.length; i += 2) area += counts[i] ?? 0;
  return area;
}

/**
 * Bounding box of a COCO RLE as pycocotools' `toBbox`: `[minX, minY, maxX − minX + 1, maxY − minY + 1]`
 * (exclusive extent), `[0, 0, 0, 0]` for an empty mask.
 */
export function rleToBoxXywh(rle: CocoRle): BoxXywh {
  const [h, w] = rle.size;
  const counts = rleCountsFromString(rle.counts);
  // pycocotools ignores a trailing zero run: only (zeros, ones) pairs matter.
  const m = Math.floor(counts.length / 2) * 2;
  if (m === 0 || h === 0) return [0, 0, 0, 0];
  let xs = w,
    ys = h,
    xe = 0,
    ye = 0;
  let cc = 0;
  let startX = 0;
  for (let j = 0; j < m; j++) {
    cc += counts[j] ?? 0;
    const t = cc - (j % 2); // j even: first pixel of the ones run; j odd: its last pixel
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) startX = x;
    else if (startX < x) {
      // The run wraps from one column into the next, so it touches both the top and bottom rows.
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/**
 * Mask IoU of two COCO RLEs of the same size, by walking both run lists (no decode).
 * Returns 0 when the intersection is empty (pycocotools' `iou` with `iscrowd = 0`).
 */
export function rleIou(a: CocoRle, b: CocoRle): number {
  if (a.size[0] !== b.size[0] || a.size[1] !== b.size[1]) {
    throw new Error(`rleIou: sizes differ (${a.size.join("×")} vs ${b.size.join("×")})`);
  }
  const ca = rleCountsFromString(a.counts);
  const cb = rleCountsFromString(b.counts);
  let ia = 0,
    ib = 0; // index of the current run in each list
  let ra = ca[0] ?? 0,
    rb = cb[0] ?? 0; // pixels left in the current runs
  let inter = 0,
    union = 0;
  for (;;) {
    // Skip exhausted runs (zero-length runs included) before stepping.
    while (ra === 0 && ia + 1 < ca.length) ra = ca[++ia] ?? 0;
    while (rb === 0 && ib + 1 < cb.length) rb = cb[++ib] ?? 0;
    if (ra === 0 || rb === 0) break;
    const step = Math.min(ra, rb);
    const va = ia % 2 === 1,
      vb = ib % 2 === 1;
    if (va || vb) union += step;
    if (va && vb) inter += step;
    ra -= step;
    rb -= step;
  }
  return inter === 0 ? 0 : inter / union;
}
