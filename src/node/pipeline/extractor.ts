/**
 * The Node model pipeline behind `RegionExtractor` and `TextEmbedder` (src/lib/services.ts):
 * bytes → decode (limits first) → AMG regions → mask-level duplicate removal (the pack's
 * `maskNmsThresh` / `containedThresh`; off by default) → Alpha-CLIP vectors (one whole-image pass with
 * alpha = 1, then one pass per region, batched) → with a dual-view pack, plain-CLIP vectors of the
 * whole image and of each region's crop, joined with the Alpha-CLIP ones (views.ts) → COCO RLE masks.
 */
import { suppressDuplicateMasks } from "../../lib/amg/dedupe.js";
import { resolveAmgParams, type AmgParams, type AmgParamsOverrides } from "../../lib/amg/params.js";
import { rleEncodeRowMajor } from "../../lib/masks/rle.js";
import type { BoxXywh } from "../../lib/masks/types.js";
import type {
  ExtractedImage,
  ExtractedRegion,
  RegionExtractor,
  TextEmbedder,
} from "../../lib/services.js";
import { assertWithinLimits, type ImageLimits } from "../../lib/intake/index.js";
import { decodeImage, type DecodedImage } from "../imaging/index.js";
import { AlphaRasterizer } from "../models/alpha.js";
import { generateMasks, type AmgRegion } from "../models/amg.js";
import {
  createClipImageEmbedder,
  createImageEmbedder,
  createTextTower,
  type AlphaWriter,
  type ImageWriter,
} from "../models/embedder.js";
import type { Views } from "../models/manifest.js";
import type { ModelPack } from "../models/pack.js";
import { embedderImage } from "../models/preprocess.js";
import { concatViews, detailViewInput, queryDetailWeight, textForViews } from "../models/views.js";
import { createSegmenter, type SegmenterOptions } from "../models/segmenter.js";
import { addTime, type StageTimings } from "../models/timings.js";

export interface RegionExtractorOptions {
  /** Byte / pixel limits of the decoder (defaults: DEFAULT_IMAGE_LIMITS). */
  limits?: Partial<ImageLimits>;
  /** AMG overrides on top of the pack's (`manifest.segmenter.amg` over SAM's defaults). */
  amg?: AmgParamsOverrides;
  /** Alpha-CLIP rows per call (default 8). */
  embedBatchSize?: number;
  /** Keep at most this many regions (highest predicted IoU first); default unlimited. */
  maxRegions?: number;
  segmenter?: SegmenterOptions;
}

/** A `RegionExtractor` that also takes pixels already decoded from the bytes (see `extractDecoded`). */
export interface PixelRegionExtractor extends RegionExtractor {
  /**
   * `extract(bytes)` for an image already decoded from `byteLength` bytes by `decodeImage` (the
   * upload verifier's pixels): the decoder's limits are checked on the sizes, then the same
   * pipeline runs, so the result equals `extract(bytes)`. `timings.decode` is the limit check.
   * `embedderInput`, asked once the regions are found, may return the Alpha-CLIP input computed
   * elsewhere from the same pixels (`embedderImage` with the pack's embedder parameters).
   */
  extractDecoded(
    image: DecodedImage,
    byteLength: number,
    embedderInput?: () => Float32Array | undefined,
  ): Promise<ExtractedImage>;
}

/** The Alpha-CLIP image input's parameters (`embedderImage`), for computing it off the model thread. */
export interface EmbedderInputSpec {
  imageSize: number;
  imageMean: readonly number[];
  imageStd: readonly number[];
}

/**
 * `extract(bytes)` returns regions in AMG's order (best predicted IoU first), each with a COCO RLE
 * mask, a bbox `[x, y, w, h]` with pycocotools' exclusive extent (`w = maxX − minX + 1`, as
 * `rleToBoxXywh` gives), area, predicted IoU, stability and a unit vector; plus the whole-image
 * unit vector and per-stage `timings` in ms: decode, preprocess, encoder, decoder, filter,
 * upsample, postprocess (only with small-region clean-up), dedupe, alpha (rasterising the alpha
 * maps), embed (Alpha-CLIP inference), rle, total.
 * Throws `ImageInputError` for bad input (see src/node/imaging).
 */
export function createRegionExtractor(
  pack: ModelPack,
  options: RegionExtractorOptions = {},
): PixelRegionExtractor {
  const params: AmgParams = options.amg
    ? resolveAmgParams({ ...pack.manifest.segmenter.amg, ...options.amg })
    : pack.amg;
  const segmenter = createSegmenter(pack, options.segmenter);
  const embedRegions = createRegionEmbedding(pack, options.embedBatchSize ?? 8);
  const maskThreshold = pack.manifest.segmenter.maskThreshold;

  async function run(
    image: DecodedImage,
    timings: StageTimings,
    start: number,
    given?: () => Float32Array | undefined,
  ): Promise<ExtractedImage> {
    let regions = await generateMasks(segmenter, image, params, maskThreshold, timings);
    const td = performance.now();
    regions = suppressDuplicateMasks(regions, image.width, params);
    addTime(timings, "dedupe", td);
    if (options.maxRegions !== undefined) regions = regions.slice(0, options.maxRegions);
    const [imageVector, ...vectors] = await embedRegions(image, regions, timings, {
      wholeImage: true,
      ...(given ? { given } : {}),
    });

    const t = performance.now();
    const extracted = regions.map((r, i) =>
      toExtractedRegion(r, vectors[i]!, image.height, image.width),
    );
    addTime(timings, "rle", t);
    timings["total"] = performance.now() - start;
    return {
      width: image.width,
      height: image.height,
      imageVector: imageVector!,
      regions: extracted,
      timings,
    } satisfies ExtractedImage;
  }

  return {
    pack: pack.id,
    async extract(bytes) {
      const timings: StageTimings = {};
      const start = performance.now();
      const image = await decodeImage(bytes, options.limits ?? {});
      addTime(timings, "decode", start);
      return run(image, timings, start);
    },
    async extractDecoded(image, byteLength, embedderInput) {
      const timings: StageTimings = {};
      const start = performance.now();
      assertWithinLimits(byteLength, image, options.limits ?? {});
      addTime(timings, "decode", start);
      return run(image, timings, start, embedderInput);
    },
  };
}

/**
 * How ingestion embeds regions, shared by every path that must produce vectors comparable with
 * stored ones (the extractor, query by example): Alpha-CLIP with alpha = the region's mask (and,
 * with `wholeImage`, alpha = 1 for the whole image first), then with a dual-view pack plain CLIP on
 * each region's crop, joined (views.ts). Returns unit vectors in that order. Timings: preprocess,
 * alpha, embed, crop, detail. `given`, when it returns one, is the Alpha-CLIP input of `image`
 * computed elsewhere (`embedderImage` with the pack's parameters).
 */
export function createRegionEmbedding(pack: ModelPack, batchSize: number) {
  const embedder = createImageEmbedder(pack, { batchSize });
  const { imageSize: E, imageMean, imageStd, alphaMean, alphaStd, views } = pack.manifest.embedder;
  const detail = views ? detailViewEmbedder(pack, views, batchSize) : null;
  return async (
    image: DecodedImage,
    regions: readonly AmgRegion[],
    timings: StageTimings,
    o: { wholeImage: boolean; given?: () => Float32Array | undefined },
  ): Promise<Float32Array[]> => {
    let t = performance.now();
    const pixels = o.given?.() ?? embedderImage(image, E, imageMean, imageStd).data;
    addTime(timings, "preprocess", t);
    t = performance.now();
    const alphaBefore = timings["alpha"] ?? 0;
    const alpha = new AlphaRasterizer(image.height, image.width, E, alphaMean, alphaStd);
    // Rasterising the alpha maps is our JS, not inference: timed as its own stage.
    const whole: AlphaWriter[] = o.wholeImage ? [(out, offset) => alpha.full(out, offset)] : [];
    const writers = timedWriters([...whole, ...regions.map((r) => regionAlpha(alpha, r))], timings);
    const context = await embedder.embed(pixels, writers);
    const alphaMs = (timings["alpha"] ?? 0) - alphaBefore;
    timings["embed"] = (timings["embed"] ?? 0) + performance.now() - t - alphaMs;
    return detail
      ? detail(image, o.wholeImage ? pixels : null, regions, context, timings)
      : context;
  };
}

/**
 * The detail view: plain-CLIP vectors of the whole image (the Alpha-CLIP input `pixels`, same
 * preprocessing; left out when null) and of each region's crop, joined with the context vectors in the same order
 * (whole image first). Timings: `crop` (cutting and resizing the crops, our JS), `detail` (inference).
 */
function detailViewEmbedder(pack: ModelPack, views: Views, batchSize: number) {
  const clip = createClipImageEmbedder(pack, { batchSize });
  const spec = pack.manifest.embedder;
  const w = views.detail.weight;
  return async (
    image: DecodedImage,
    pixels: Float32Array | null,
    regions: readonly AmgRegion[],
    context: Float32Array[],
    timings: StageTimings,
  ) => {
    const t = performance.now();
    const crop =
      (r: AmgRegion): ImageWriter =>
      (out, offset) => {
        const [x0, y0, x1, y1] = r.boxXyxy;
        const box: BoxXywh = [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
        out.set(detailViewInput(image, box, views.detail.cropMargin, spec), offset);
      };
    const whole: ImageWriter[] = pixels ? [(out, offset) => out.set(pixels, offset)] : [];
    const writers: ImageWriter[] = [...whole, ...regions.map(crop)];
    const timed = writers.map((write): ImageWriter => (out, offset) => {
      const tc = performance.now();
      write(out, offset);
      addTime(timings, "crop", tc);
    });
    const cropBefore = timings["crop"] ?? 0;
    const detailVectors = await clip.embed(timed);
    const cropMs = (timings["crop"] ?? 0) - cropBefore;
    timings["detail"] = (timings["detail"] ?? 0) + performance.now() - t - cropMs;
    return context.map((a, i) => concatViews(a, detailVectors[i]!, w));
  };
}

/** The writers, each call's time added to `timings.alpha`. */
function timedWriters(writers: AlphaWriter[], timings: StageTimings): AlphaWriter[] {
  return writers.map((write) => (out, offset) => {
    const t = performance.now();
    write(out, offset);
    addTime(timings, "alpha", t);
  });
}

function regionAlpha(alpha: AlphaRasterizer, r: AmgRegion): AlphaWriter {
  const [x0, y0, x1, y1] = r.boxXyxy;
  return (out, offset) => alpha.normalised(r.mask, { x0, y0, x1, y1 }, out, offset);
}

function toExtractedRegion(
  r: AmgRegion,
  vector: Float32Array,
  h: number,
  w: number,
): ExtractedRegion {
  const [x0, y0, x1, y1] = r.boxXyxy;
  return {
    mask: rleEncodeRowMajor(r.mask, h, w, r.boxXyxy),
    bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1],
    area: r.area,
    predictedIou: r.predictedIou,
    stability: r.stability,
    vector,
  };
}

/**
 * `TextEmbedder` on the pack's Alpha-CLIP text tower: unit vectors, laid out for the pack's views
 * (`textForViews`: the same text vector queries both, as Alpha-CLIP keeps CLIP's text tower;
 * `queryDetailWeight`: a relational query ranks on the context view).
 */
export function createTextEmbedder(pack: ModelPack): TextEmbedder {
  const tower = createTextTower(pack, "text");
  const views = pack.manifest.embedder.views;
  return {
    pack: pack.id,
    async embedText(text) {
      const [v] = await tower.embed([text]);
      return views ? textForViews(v!, queryDetailWeight(text, views)) : v!;
    },
  };
}
