/**
 * Why a referring query's top-1 region missed its target (docs/quality-tuning.md): the region
 * set had no match at all, or the ranking picked another object, a part, a merge or background.
 */
import { IOU_HIT } from "./metrics.js";

export const MISS_KINDS = [
  "unreachable",
  "otherObject",
  "partOfOther",
  "merge",
  "part",
  "background",
] as const;
export type MissKind = (typeof MISS_KINDS)[number];
export type QueryVerdict = "hit" | MissKind;

/** A 0/1 row-major mask with its foreground count (all masks of one call share one shape). */
export interface CountedMask {
  mask: Uint8Array;
  area: number;
}

export function counted(mask: Uint8Array): CountedMask {
  let area = 0;
  for (let i = 0; i < mask.length; i++) area += mask[i]! !== 0 ? 1 : 0;
  return { mask, area };
}

function overlap(a: CountedMask, b: CountedMask): number {
  let n = 0;
  for (let i = 0; i < a.mask.length; i++) if (a.mask[i]! !== 0 && b.mask[i]! !== 0) n++;
  return n;
}

const iouOf = (inter: number, a: CountedMask, b: CountedMask) =>
  inter === 0 ? 0 : inter / (a.area + b.area - inter);

/**
 * Verdict on `top` (the ranked-first region, null when there is none) for the object `target` of
 * `objects`. `reachable`: some region overlaps the target at IoU ≥ 0.5. Checked in this order:
 * hit (IoU ≥ 0.5 with the target); unreachable; another object (IoU ≥ 0.5 with it); a part of
 * another object (≥ half of the region on it); a merge (covers ≥ half of the target); a part of
 * the target (≥ half of the region on it); background.
 */
export function classifyTopRegion(
  top: CountedMask | null,
  target: number,
  objects: readonly CountedMask[],
  reachable: boolean,
): QueryVerdict {
  if (top === null || top.area === 0) return reachable ? "background" : "unreachable";
  const inters = objects.map((o) => overlap(top, o));
  if (iouOf(inters[target]!, top, objects[target]!) >= IOU_HIT) return "hit";
  if (!reachable) return "unreachable";
  const others = objects.map((_, k) => k).filter((k) => k !== target);
  if (others.some((k) => iouOf(inters[k]!, top, objects[k]!) >= IOU_HIT)) return "otherObject";
  if (others.some((k) => inters[k]! / top.area >= 0.5)) return "partOfOther";
  if (inters[target]! / objects[target]!.area >= 0.5) return "merge";
  if (inters[target]! / top.area >= 0.5) return "part";
  return "background";
}
