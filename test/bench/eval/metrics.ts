/** Quality metrics of the eval: segmentation recall, referring top-1, retrieval recall@k and AP. */

export const IOU_HIT = 0.5;

/** Index of the highest score (first on ties), or -1 for an empty list. */
export function argmax(scores: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) if (best < 0 || scores[i]! > scores[best]!) best = i;
  return best;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Average precision of one ranked list. `relevantAt[k]` is the id of the relevant object that the
 * k-th result newly matches, or null; `relevantCount` is how many relevant objects exist in all.
 */
export function averagePrecision(
  relevantAt: readonly (string | null)[],
  relevantCount: number,
): number {
  if (relevantCount === 0) return 0;
  const seen = new Set<string>();
  let sum = 0;
  relevantAt.forEach((id, k) => {
    if (id === null || seen.has(id)) return;
    seen.add(id);
    sum += seen.size / (k + 1);
  });
  return sum / relevantCount;
}

/** Fraction of `flags` that are true (NaN for none). */
export function rate(flags: readonly boolean[]): number {
  return flags.length === 0 ? Number.NaN : flags.filter(Boolean).length / flags.length;
}
