/**
 * Query by example on Node (`ExampleEmbedder`, src/lib/services.ts): bytes → decode (the
 * extractor's limits) → SAM encoder (segmenter.ts) → the prompt through the pack's interactive
 * decoder (models/prompted.ts) → the region embedded by the very code ingestion uses
 * (`createRegionEmbedding`: Alpha-CLIP with alpha = mask, plus the detail view's crop with a
 * dual-view pack) → COCO RLE mask. The vector is therefore in the stored layout and compares with
 * stored region vectors as they compare with each other.
 */
import { ApiError } from "../../lib/errors.js";
import { rleEncodeRowMajor } from "../../lib/masks/rle.js";
import type { EmbeddedExample, ExampleEmbedder, RegionPrompt } from "../../lib/services.js";
import { decodeImage } from "../imaging/index.js";
import type { ModelPack } from "../models/pack.js";
import { decodePrompt } from "../models/prompted.js";
import { createSegmenter } from "../models/segmenter.js";
import { addTime, type StageTimings } from "../models/timings.js";
import { createRegionEmbedding, type RegionExtractorOptions } from "./extractor.js";

/** A 400 when the prompt does not lie on the `width × height` image (its pixels, after EXIF orientation). */
export function checkPromptInside(prompt: RegionPrompt, width: number, height: number): void {
  if ("point" in prompt) {
    const [x, y] = prompt.point;
    if (x < 0 || y < 0 || x >= width || y >= height)
      throw ApiError.invalid(`point: (${x}, ${y}) lies outside the ${width}×${height} image`);
    return;
  }
  const [x, y, w, h] = prompt.box;
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > width || y + h > height)
    throw ApiError.invalid(
      `box: [${x}, ${y}, ${w}, ${h}] does not lie inside the ${width}×${height} image`,
    );
}

export function createExampleEmbedder(
  pack: ModelPack,
  options: Pick<RegionExtractorOptions, "limits" | "embedBatchSize" | "segmenter"> = {},
): ExampleEmbedder {
  const segmenter = createSegmenter(pack, options.segmenter);
  const embedRegions = createRegionEmbedding(pack, options.embedBatchSize ?? 8);
  return {
    pack: pack.id,
    async embedExample(bytes, prompt): Promise<EmbeddedExample> {
      const timings: StageTimings = {};
      const start = performance.now();
      const image = await decodeImage(bytes, options.limits ?? {});
      addTime(timings, "decode", start);
      checkPromptInside(prompt, image.width, image.height);
      const encoding = await segmenter.encode(image, timings);
      let t = performance.now();
      const region = await decodePrompt(pack, encoding, prompt);
      addTime(timings, "decoder", t);
      if (region.area === 0)
        throw new ApiError(
          "no_region",
          "The prompt segments no region of the image; click on the thing itself",
        );
      const [vector] = await embedRegions(image, [{ ...region, stability: 1 }], timings, {
        wholeImage: false,
      });
      t = performance.now();
      const mask = rleEncodeRowMajor(region.mask, image.height, image.width, region.boxXyxy);
      addTime(timings, "rle", t);
      const [x0, y0, x1, y1] = region.boxXyxy;
      timings["total"] = performance.now() - start;
      return {
        width: image.width,
        height: image.height,
        mask,
        bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1],
        area: region.area,
        predictedIou: region.predictedIou,
        vector: vector!,
        timings,
      };
    },
  };
}
