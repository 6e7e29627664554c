/**
 * The dual-view pipeline on the bundled pack: each stored vector is the Alpha-CLIP vector (as an
 * alpha-only copy of the pack makes it) joined with the plain-CLIP vector of the region's crop grown
 * by the pack's margin, weighted so that one dot product with the text vector is the weighted
 * average of the two views' scores.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeImage } from "../../src/node/imaging/index.js";
import { createClipImageEmbedder, createTextTower } from "../../src/node/models/embedder.js";
import { loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { cropRgb, embedderImage } from "../../src/node/models/preprocess.js";
import { detailCropBox, splitView } from "../../src/node/models/views.js";
import { createRegionExtractor, createTextEmbedder } from "../../src/node/pipeline/extractor.js";
import type { ExtractedImage } from "../../src/lib/services.js";
import { PACK_DIR, packCopy } from "./pack-helpers.js";

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">
  <rect width="100%" height="100%" fill="#d8d2c4"/>
  <circle cx="70" cy="70" r="45" fill="#d62828"/>
  <rect x="170" y="60" width="90" height="80" fill="#1d4ed8"/>
  <polygon points="40,190 90,120 140,190" fill="#15803d"/>
</svg>`;
const AMG = { pointsPerSide: 8, predIouThresh: 0, stabilityScoreThresh: 0 };
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

let dual: ModelPack, alphaOnly: ModelPack;
let png: Uint8Array;
let dualOut: ExtractedImage, alphaOut: ExtractedImage;
let copy: Awaited<ReturnType<typeof packCopy>>;

beforeAll(async () => {
  png = await sharp(Buffer.from(SVG)).png().toBuffer();
  dual = await loadModelPack(PACK_DIR, { session: { intraOpNumThreads: 1 } });
  copy = await packCopy();
  delete (copy.manifest["embedder"] as { views?: unknown }).views;
  await copy.write();
  alphaOnly = await loadModelPack(copy.dir, { session: { intraOpNumThreads: 1 } });
  dualOut = await createRegionExtractor(dual, { amg: AMG }).extract(png);
  alphaOut = await createRegionExtractor(alphaOnly, { amg: AMG }).extract(png);
});
afterAll(async () => {
  await dual?.release();
  await alphaOnly?.release();
  await copy?.cleanup();
});

describe("dual-view extraction", () => {
  it("a pack without views stays alpha-only: embedDim vectors, no CLIP image session", () => {
    expect(alphaOnly.vectorDim).toBe(alphaOnly.manifest.embedder.embedDim);
    expect(alphaOnly.sessions.clipImage).toBeUndefined();
    expect(alphaOut.regions[0]!.vector).toHaveLength(alphaOnly.vectorDim);
  });

  it("joins each region's Alpha-CLIP vector with the CLIP vector of its crop grown by the pack's margin", async () => {
    const views = dual.manifest.embedder.views!;
    expect(dualOut.regions.map((r) => r.bbox)).toEqual(alphaOut.regions.map((r) => r.bbox));
    const image = await decodeImage(png);
    const { imageSize: e, imageMean, imageStd } = dual.manifest.embedder;
    const crops = await createClipImageEmbedder(dual).embed(
      dualOut.regions.map((r) => (out, offset) => {
        out.set(
          embedderImage(
            cropRgb(
              image,
              detailCropBox(r.bbox, views.detail.cropMargin, image.width, image.height),
            ),
            e,
            imageMean,
            imageStd,
          ).data,
          offset,
        );
      }),
    );
    const tight = await createClipImageEmbedder(dual).embed(
      dualOut.regions.map((r) => (out, offset) => {
        out.set(embedderImage(cropRgb(image, r.bbox), e, imageMean, imageStd).data, offset);
      }),
    );
    dualOut.regions.forEach((r, i) => {
      expect(r.vector).toHaveLength(dual.vectorDim);
      expect(dot(r.vector, r.vector)).toBeCloseTo(1, 5);
      expect(dot(splitView(r.vector, "context", views)!, alphaOut.regions[i]!.vector)).toBeCloseTo(
        1,
        5,
      );
      expect(dot(splitView(r.vector, "detail", views)!, crops[i]!)).toBeCloseTo(1, 5);
    });
    // The margin matters: some region's detail view is not its tight crop's.
    expect(
      dualOut.regions.some(
        (r, i) => dot(splitView(r.vector, "detail", views)!, tight[i]!) < 0.9999,
      ),
    ).toBe(true);
  });

  it("the whole-image point joins the alpha = 1 vector with CLIP's view of the whole image", async () => {
    const views = dual.manifest.embedder.views!;
    const image = await decodeImage(png);
    const { imageSize: e, imageMean, imageStd } = dual.manifest.embedder;
    const [whole] = await createClipImageEmbedder(dual).embed([
      (out, offset) => out.set(embedderImage(image, e, imageMean, imageStd).data, offset),
    ]);
    expect(
      dot(splitView(dualOut.imageVector, "context", views)!, alphaOut.imageVector),
    ).toBeCloseTo(1, 5);
    expect(dot(splitView(dualOut.imageVector, "detail", views)!, whole!)).toBeCloseTo(1, 5);
  });

  it("scores a text by the weighted average of the views' cosines, in one dot product", async () => {
    const views = dual.manifest.embedder.views!;
    const query = await createTextEmbedder(dual).embedText("a red circle");
    const [t] = await createTextTower(dual).embed(["a red circle"]);
    for (const r of dualOut.regions) {
      const a = splitView(r.vector, "context", views)!,
        c = splitView(r.vector, "detail", views)!;
      expect(dot(query, r.vector)).toBeCloseTo(
        views.context.weight * dot(a, t!) + views.detail.weight * dot(c, t!),
        5,
      );
    }
  });

  it("ranks a relational query on the context view alone (the pack's relationWords)", async () => {
    const views = dual.manifest.embedder.views!;
    expect(views.context.relationWords).toContain("left");
    const text = "the circle left of the blue square";
    const query = await createTextEmbedder(dual).embedText(text);
    const [t] = await createTextTower(dual).embed([text]);
    for (const r of dualOut.regions) {
      expect(dot(query, r.vector)).toBeCloseTo(
        Math.sqrt(views.context.weight) * dot(splitView(r.vector, "context", views)!, t!),
        5,
      );
    }
  });
});

describe("manifest views", () => {
  it("refuses views without the CLIP image tower, and weights that do not sum to 1", async () => {
    const bad = await packCopy();
    try {
      const embedder = bad.manifest["embedder"] as {
        views: { context: { weight: number } };
        clipImage?: unknown;
      };
      embedder.views.context.weight = 0.7;
      await bad.write();
      await expect(loadModelPack(bad.dir)).rejects.toThrow(
        /context\.weight \+ detail\.weight must be 1/,
      );
      embedder.views.context.weight = dual.manifest.embedder.views!.context.weight;
      delete embedder.clipImage;
      await bad.write();
      await expect(loadModelPack(bad.dir)).rejects.toThrow(
        /the detail view needs the clipImage model/,
      );
    } finally {
      await bad.cleanup();
    }
  });
});
