/**
 * Dual-view vectors (docs/model-pack.md "Views"): a region is stored as one unit vector
 * `[√(1−w)·a, √w·c]` — `a` its Alpha-CLIP (context) vector, `c` the plain-CLIP vector of its crop
 * (detail), both unit length — and a text as `[√(1−w)·t, √w·t]`. Their dot product is then
 * `(1−w)·a·t + w·c·t`, the weighted average of the two cosine scores, so one cosine search in any
 * store (filters, grouping, ANN indexes) ranks by the dual-view score. Pure code: no Node APIs.
 */
import type { BoxXywh } from "../../lib/masks/types.js";
import type { Views } from "./manifest.js";
import { cropRgb, embedderImage, type RgbImage } from "./preprocess.js";

/**
 * `[√(1−w)·context, √w·detail]` as one float32 vector of length `2·D`; unit length when both
 * inputs are (each `[D]`, same `D`).
 */
export function concatViews(context: Float32Array, detail: Float32Array, detailWeight: number): Float32Array {
  if (context.length !== detail.length) throw new Error(`concatViews: views of ${context.length} and ${detail.length} values`);
  const d = context.length, out = new Float32Array(2 * d);
  const sc = Math.sqrt(1 - detailWeight), sd = Math.sqrt(detailWeight);
  for (let i = 0; i < d; i++) {
    out[i] = sc * context[i]!;
    out[d + i] = sd * detail[i]!;
  }
  return out;
}

/**
 * The text side: `[√(1−q)·t, √q·t]` (`t` is `[D]`, unit length). With `q = w` a dot product with a
 * stored vector is the weighted average `(1−w)·a·t + w·c·t`; with `q = 0` it is `√(1−w)·a·t`, which
 * ranks as the context view alone (see `queryDetailWeight`).
 */
export function textForViews(text: Float32Array, queryDetailWeight: number): Float32Array {
  return concatViews(text, text, queryDetailWeight);
}

/**
 * The detail weight a query is laid out with: 0 when it holds one of the pack's `relationWords`
 * (whole words, case-insensitive), so a query about one object's relation to another ranks on the
 * context view; else the pack's `detail.weight`.
 */
export function queryDetailWeight(query: string, views: Views): number {
  const relation = views.context.relationWords;
  if (relation && relation.length > 0) {
    const words = new Set(query.toLowerCase().split(/[^a-z]+/));
    if (relation.some((w) => words.has(w))) return 0;
  }
  return views.detail.weight;
}

/**
 * One view of a stored vector `[2·D]`, scaled back to unit length (`null` when its weight is 0, as
 * nothing of it was kept). For evaluation: the context-only and detail-only rankings of the same regions.
 */
export function splitView(stored: Float32Array, view: "context" | "detail", views: Views): Float32Array | null {
  const d = stored.length / 2;
  const weight = views[view].weight;
  if (weight === 0) return null;
  const part = view === "context" ? stored.subarray(0, d) : stored.subarray(d);
  const scale = 1 / Math.sqrt(weight);
  return Float32Array.from(part, (v) => v * scale);
}

/**
 * The detail view's crop of a region: its box `[x, y, w, h]` (pycocotools' exclusive extent) grown
 * by `margin·w` left and right and `margin·h` above and below, rounded outwards to whole pixels and
 * clipped to the `width × height` image. Returns `[x, y, w, h]`, never empty for a non-empty box.
 */
export function detailCropBox([x, y, w, h]: BoxXywh, margin: number, width: number, height: number): BoxXywh {
  const x0 = Math.max(0, Math.floor(x - margin * w)), y0 = Math.max(0, Math.floor(y - margin * h));
  const x1 = Math.min(width, Math.ceil(x + w + margin * w)), y1 = Math.min(height, Math.ceil(y + h + margin * h));
  return [x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0)];
}

/**
 * The detail view's CLIP input `[3, E, E]` (CHW) for a region's box `[x, y, w, h]`: the crop
 * `detailCropBox` gives, through the embedder's pad-to-square and resize (`embedderImage`).
 */
export function detailViewInput(
  image: RgbImage,
  box: BoxXywh,
  margin: number,
  embedder: { imageSize: number; imageMean: readonly number[]; imageStd: readonly number[] },
): Float32Array {
  const crop = cropRgb(image, detailCropBox(box, margin, image.width, image.height));
  return embedderImage(crop, embedder.imageSize, embedder.imageMean, embedder.imageStd).data;
}
