/**
 * Greedy non-maximum suppression over xyxy boxes, torchvision's `nms` semantics.
 */

/**
 * Indices of the boxes kept by greedy NMS, in descending score order.
 *
 * `boxes` is `[N, 4]` row-major `x0, y0, x1, y1`; `scores` is `[N]`. A box is suppressed when its
 * IoU (continuous rectangles, no `+1`) with an already kept, higher-scored box is strictly greater
 * than `iouThreshold`. Equal scores keep input order (stable), NaN scores rank last. Pairs whose
 * union is 0 (two degenerate boxes) never suppress each other, as NaN > t is false in torchvision.
 */
export function nmsXyxy(boxes: Float32Array, scores: Float32Array, iouThreshold: number): number[] {
  const n = scores.length;
  if (boxes.length !== n * 4)
    throw new Error(`nmsXyxy: ${boxes.length} box values for ${n} scores`);
  const order = sortByScoreDescending(scores);
  const areas = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    areas[i] = (boxes[i * 4 + 2]! - boxes[i * 4]!) * (boxes[i * 4 + 3]! - boxes[i * 4 + 1]!);
  }
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  for (let oi = 0; oi < n; oi++) {
    const i = order[oi]!;
    if (suppressed[i]) continue;
    keep.push(i);
    for (let oj = oi + 1; oj < n; oj++) {
      const j = order[oj]!;
      if (!suppressed[j] && iouAt(boxes, areas, i, j) > iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}

function iouAt(boxes: Float32Array, areas: Float64Array, i: number, j: number): number {
  const w = Math.min(boxes[i * 4 + 2]!, boxes[j * 4 + 2]!) - Math.max(boxes[i * 4]!, boxes[j * 4]!);
  const h =
    Math.min(boxes[i * 4 + 3]!, boxes[j * 4 + 3]!) - Math.max(boxes[i * 4 + 1]!, boxes[j * 4 + 1]!);
  const inter = Math.max(0, w) * Math.max(0, h);
  const union = areas[i]! + areas[j]! - inter;
  return union > 0 ? inter / union : 0;
}

/** Indices sorted by score, highest first; stable for ties; NaN last. */
function sortByScoreDescending(scores: Float32Array): number[] {
  const key = (i: number): number => {
    const s = scores[i]!;
    return Number.isNaN(s) ? -Infinity : s;
  };
  const order = Array.from({ length: scores.length }, (_, i) => i);
  // Array.prototype.sort is stable (ES2019), so ties keep their input order.
  return order.sort((a, b) => key(b) - key(a) || 0);
}
