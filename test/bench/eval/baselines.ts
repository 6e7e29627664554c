/**
 * The paper's region-focus baselines (Alpha-CLIP §4, Table 2): the plain CLIP image tower sees a
 * tight crop of the region, the image with the background masked out, or the whole image with a red
 * circle drawn around the region. Same regions, same text vectors as the alpha method.
 */
import type { BoxXywh } from "../../../src/lib/masks/types.js";
import { createClipImageEmbedder } from "../../../src/node/models/embedder.js";
import type { ModelPack } from "../../../src/node/models/pack.js";
import {
  cropRgb,
  embedderImage,
  meanFill,
  type RgbImage,
} from "../../../src/node/models/preprocess.js";

export type Baseline = "crop" | "masked" | "redCircle" | "wholeImage";
export const BASELINES: readonly Baseline[] = ["crop", "masked", "redCircle", "wholeImage"];

/** `image` with every pixel outside `mask` (row-major `[H, W]`, 1 inside) set to `fill`. */
export function maskBackgroundRgb(
  image: RgbImage,
  mask: Uint8Array,
  fill: readonly number[],
): RgbImage {
  const data = image.data.slice();
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) continue;
    data[i * 3] = fill[0]!;
    data[i * 3 + 1] = fill[1]!;
    data[i * 3 + 2] = fill[2]!;
  }
  return { ...image, data };
}

/**
 * `image` with a red ellipse outline around `box` (`[x, y, w, h]`), padded 10 % like the paper's
 * red-circle prompt; line width ~1 % of the longer side so it survives the resize to E pixels.
 */
export function drawRedEllipseRgb(image: RgbImage, [x, y, w, h]: BoxXywh): RgbImage {
  const data = image.data.slice();
  const cx = x + w / 2,
    cy = y + h / 2;
  const rx = Math.max(2, w * 0.6),
    ry = Math.max(2, h * 0.6);
  const line = Math.max(2, 0.01 * Math.max(image.width, image.height));
  const x0 = Math.max(0, Math.floor(cx - rx - line)),
    x1 = Math.min(image.width - 1, Math.ceil(cx + rx + line));
  const y0 = Math.max(0, Math.floor(cy - ry - line)),
    y1 = Math.min(image.height - 1, Math.ceil(cy + ry + line));
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      const dx = (px + 0.5 - cx) / rx,
        dy = (py + 0.5 - cy) / ry;
      // Distance to the ellipse ≈ |r − 1| · (local radius); keep a band `line` pixels wide.
      const r = Math.hypot(dx, dy);
      const radius = Math.hypot(dx * rx, dy * ry) / Math.max(r, 1e-9);
      if (Math.abs(r - 1) * radius > line / 2) continue;
      const p = (py * image.width + px) * 3;
      data[p] = 255;
      data[p + 1] = 0;
      data[p + 2] = 0;
    }
  }
  return { ...image, data };
}

/** Plain-CLIP image vectors (unit length) for a list of images, batched (the pack's `clipImage`). */
export async function clipImageVectors(
  pack: ModelPack,
  images: readonly RgbImage[],
): Promise<Float32Array[]> {
  const { imageSize: e, imageMean, imageStd } = pack.manifest.embedder;
  return createClipImageEmbedder(pack).embed(
    images.map(
      (img) => (out, offset) => out.set(embedderImage(img, e, imageMean, imageStd).data, offset),
    ),
  );
}

/** Inputs of one baseline for each region of an image (`wholeImage`: one input shared by all). */
export function baselineImages(
  kind: Baseline,
  image: RgbImage,
  regions: readonly { bbox: BoxXywh; mask: Uint8Array }[],
  pack: ModelPack,
): RgbImage[] {
  const fill = meanFill(pack.manifest.embedder.imageMean);
  switch (kind) {
    case "crop":
      return regions.map((r) => cropRgb(image, r.bbox));
    case "masked":
      return regions.map((r) => maskBackgroundRgb(image, r.mask, fill));
    case "redCircle":
      return regions.map((r) => drawRedEllipseRgb(image, r.bbox));
    case "wholeImage":
      return [image];
  }
}
