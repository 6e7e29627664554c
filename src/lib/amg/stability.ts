/**
 * SAM's stability score (`calculate_stability_score`).
 */

/**
 * IoU between the masks `logits > t + δ` and `logits > t − δ` over the `[height, width]` top-left
 * part of a row-major plane whose rows are `rowStride` logits long, starting at `offset` (the part of
 * a low-res mask that covers the image, read in place instead of copied out; one row of `length`
 * logits is `height` 1, `width` = `rowStride` = `length`). With δ ≥ 0 the first mask lies inside the
 * second, so IoU = count(> t + δ) / count(> t − δ).
 *
 * When count(> t − δ) is 0, SAM divides 0 by 0 and gets NaN, which fails its `>= thresh` filter
 * whenever that filter is on; we return 0 instead so the number is always finite and still fails
 * any positive threshold. The ratio is returned in double precision (SAM's is float32; the filter
 * rounds before comparing).
 */
export function stabilityScorePlane(
  logits: Float32Array,
  offset: number,
  height: number,
  width: number,
  rowStride: number,
  maskThreshold: number,
  thresholdOffset: number,
): number {
  const end = offset + (height - 1) * rowStride + width;
  if (offset < 0 || width < 0 || rowStride < width || (height > 0 && end > logits.length)) {
    throw new Error(
      `stabilityScorePlane: window [${offset}, ${end}) outside an array of ${logits.length}`,
    );
  }
  // PyTorch compares float32 logits with a Python float after casting it to float32.
  const high = Math.fround(maskThreshold + thresholdOffset);
  const low = Math.fround(maskThreshold - thresholdOffset);
  let intersections = 0;
  let unions = 0;
  for (let y = 0; y < height; y++) {
    for (let i = offset + y * rowStride, rowEnd = i + width; i < rowEnd; i++) {
      const v = logits[i]!;
      if (v > high) intersections++;
      if (v > low) unions++;
    }
  }
  return unions === 0 ? 0 : intersections / unions;
}
