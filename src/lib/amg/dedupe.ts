/**
 * Final duplicate removal on AMG regions, on their MASKS. Not part of SAM (see params.ts).
 *
 * Why: SAM keeps every multimask output (sub-part / part / whole) of every grid point that passes
 * the filters, and its box NMS (IoU > 0.7) keeps two masks of one object whenever their boxes
 * differ enough, so a pack ends up with about two regions per object. Each extra region is one more
 * candidate that can out-score the right one at search time (docs/quality-tuning.md measures this)
 * and one more vector to embed and store. Mask IoU sees what boxes miss (a ring and its disc share
 * a box; a part can have a box far from the whole's), and containment removes sub-parts.
 */
import type { BoxXyxy } from "../masks/types.js";

/** What the suppression needs of a region: its row-major 0/1 mask with its box and area. */
export interface DedupeRegion {
  /** Row-major `[H, W]` 0/1 mask. */
  mask: Uint8Array;
  /** Tight box of `mask`, INCLUSIVE max coordinates. */
  boxXyxy: BoxXyxy;
  /** Foreground pixel count of `mask`. */
  area: number;
  predictedIou: number;
}

export interface DedupeThresholds {
  /** Drop a region whose mask IoU with a kept one is `> maskNmsThresh` (1 disables). */
  maskNmsThresh: number;
  /** Drop a region with `> containedThresh` of its area inside a kept one (1 disables). */
  containedThresh: number;
}

/**
 * Greedy suppression over `regions` (row-major masks of width `width`), best predicted IoU first
 * (ties: input order): a region is dropped when, against some already kept region, its mask IoU is
 * `> maskNmsThresh` or the fraction of its own area inside that region is `> containedThresh`.
 * Returns the kept regions in their INPUT order. With both thresholds at 1 nothing is dropped.
 */
export function suppressDuplicateMasks<T extends DedupeRegion>(
  regions: readonly T[],
  width: number,
  t: DedupeThresholds,
): T[] {
  if (t.maskNmsThresh >= 1 && t.containedThresh >= 1) return [...regions];
  const order = regions
    .map((_, i) => i)
    .sort((a, b) => regions[b]!.predictedIou - regions[a]!.predictedIou || a - b);
  const kept: number[] = [];
  for (const i of order) {
    const r = regions[i]!;
    if (r.area === 0) continue;
    const dropped = kept.some((k) => {
      const other = regions[k]!;
      const inter = intersectionRowMajor(r, other, width);
      return (
        inter / (r.area + other.area - inter) > t.maskNmsThresh ||
        inter / r.area > t.containedThresh
      );
    });
    if (!dropped) kept.push(i);
  }
  return kept.sort((a, b) => a - b).map((i) => regions[i]!);
}

/** Pixels set in both masks, counted only inside the overlap of their boxes (0 when disjoint). */
export function intersectionRowMajor(a: DedupeRegion, b: DedupeRegion, width: number): number {
  const x0 = Math.max(a.boxXyxy[0], b.boxXyxy[0]),
    y0 = Math.max(a.boxXyxy[1], b.boxXyxy[1]);
  const x1 = Math.min(a.boxXyxy[2], b.boxXyxy[2]),
    y1 = Math.min(a.boxXyxy[3], b.boxXyxy[3]);
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let i = y * width + x0, end = y * width + x1; i <= end; i++)
      if (a.mask[i]! !== 0 && b.mask[i]! !== 0) n++;
  }
  return n;
}
