/**
 * The real bundled pack end to end on a generated shapes scene. Structural invariants only:
 * quality is measured by the benchmarks, and the pack may be randomly initialised.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rleDecodeToRowMajor } from "../../src/lib/masks/rle-decode.js";
import { rleArea, rleToBoxXywh } from "../../src/lib/masks/rle.js";
import type { ExtractedImage } from "../../src/lib/services.js";
import { ImageInputError } from "../../src/lib/intake/index.js";
import { loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { createRegionExtractor, createTextEmbedder } from "../../src/node/pipeline/extractor.js";
import { PACK_DIR } from "./pack-helpers.js";

const W = 320,
  H = 240;
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
  <rect width="100%" height="100%" fill="#d8d2c4"/>
  <circle cx="80" cy="80" r="50" fill="#d62828"/>
  <rect x="170" y="40" width="110" height="90" fill="#1d4ed8"/>
  <polygon points="60,220 140,120 220,220" fill="#15803d"/>
  <polygon points="260,150 285,200 240,200" fill="#eab308"/>
</svg>`;
// Random-init packs predict low IoUs: switch the quality filters off so regions come through.
const AMG = { pointsPerSide: 8, predIouThresh: 0, stabilityScoreThresh: 0 };

let pack: ModelPack;
let png: Uint8Array;
let result: ExtractedImage;

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

beforeAll(async () => {
  pack = await loadModelPack(PACK_DIR, { session: { intraOpNumThreads: 1 } });
  png = await sharp(Buffer.from(SVG)).png().toBuffer();
  result = await createRegionExtractor(pack, { amg: AMG, embedBatchSize: 4 }).extract(png);
});
afterAll(async () => {
  await pack?.release();
});

describe("createRegionExtractor on the bundled pack", () => {
  it("returns the image size, a unit whole-image vector and per-stage timings", () => {
    expect([result.width, result.height]).toEqual([W, H]);
    expect(result.imageVector).toHaveLength(pack.vectorDim);
    expect(norm(result.imageVector)).toBeCloseTo(1, 5);
    for (const stage of [
      "decode",
      "preprocess",
      "encoder",
      "decoder",
      "filter",
      "upsample",
      "alpha",
      "embed",
      "rle",
      "total",
    ]) {
      expect(result.timings[stage], stage).toBeGreaterThanOrEqual(0);
    }
  });

  it("times each stage once: the stages never add up to more than the total", () => {
    // The alpha maps are rasterised inside the embedder's calls; counting them in both `alpha` and
    // `embed` would overstate the time (and hide our JS inside "model inference").
    const { total, ...stages } = result.timings;
    const sum = Object.values(stages).reduce((a, b) => a + b, 0);
    expect(sum).toBeLessThanOrEqual(total! + 1e-6);
    expect(result.timings["alpha"]).toBeGreaterThan(0);
  });

  it("returns regions whose RLE masks, boxes and areas agree, with unit vectors", () => {
    expect(result.regions.length).toBeGreaterThan(0);
    for (const r of result.regions) {
      expect(r.mask.size).toEqual([H, W]);
      const mask = rleDecodeToRowMajor(r.mask);
      expect(mask).toHaveLength(W * H);
      const ones = mask.reduce((s, v) => s + (v ? 1 : 0), 0);
      expect(r.area).toBe(ones);
      expect(r.area).toBeGreaterThan(0);
      expect(rleArea(r.mask)).toBe(r.area);
      expect(r.bbox).toEqual(rleToBoxXywh(r.mask));
      expect(r.vector).toHaveLength(pack.vectorDim);
      expect(norm(r.vector)).toBeCloseTo(1, 5);
      expect(Number.isFinite(r.predictedIou) && Number.isFinite(r.stability)).toBe(true);
    }
    const ious = result.regions.map((r) => r.predictedIou);
    expect(ious).toEqual([...ious].sort((a, b) => b - a)); // best first, as SAM's NMS leaves them
  });

  it("gives the same regions through the single-prompt decoder fallback", async () => {
    const single = await createRegionExtractor(pack, {
      amg: AMG,
      segmenter: { preferSingleDecoder: true },
    }).extract(png);
    expect(single.regions.map((r) => r.bbox)).toEqual(result.regions.map((r) => r.bbox));
    single.regions.forEach((r, i) =>
      expect(r.predictedIou).toBeCloseTo(result.regions[i]!.predictedIou, 4),
    );
  });

  it("applies the pack's mask-level dedupe: a subset of the regions without it, none left duplicated", async () => {
    const { maskNmsThresh, containedThresh } = pack.amg;
    expect(maskNmsThresh).toBeLessThan(1); // the bundled pack turns it on (docs/quality-tuning.md)
    const all = await createRegionExtractor(pack, {
      amg: { ...AMG, maskNmsThresh: 1, containedThresh: 1 },
      embedBatchSize: 4,
    }).extract(png);
    expect(result.regions.length).toBeLessThanOrEqual(all.regions.length);
    const key = (r: { bbox: number[]; predictedIou: number }) =>
      `${r.bbox.join(",")}@${r.predictedIou}`;
    const allKeys = new Set(all.regions.map(key));
    for (const r of result.regions) expect(allKeys.has(key(r))).toBe(true);
    const masks = result.regions.map((r) => rleDecodeToRowMajor(r.mask));
    for (let i = 0; i < masks.length; i++) {
      for (let j = 0; j < masks.length; j++) {
        if (i === j) continue;
        let inter = 0;
        for (let k = 0; k < masks[i]!.length; k++) inter += masks[i]![k]! & masks[j]![k]!;
        const [a, b] = [result.regions[i]!, result.regions[j]!];
        expect(inter / (a.area + b.area - inter)).toBeLessThanOrEqual(maskNmsThresh);
        if (b.predictedIou > a.predictedIou)
          expect(inter / a.area).toBeLessThanOrEqual(containedThresh);
      }
    }
  });

  it("runs with crop layers, best predicted IoU first, and maxRegions keeps the best", async () => {
    const amg = { ...AMG, pointsPerSide: 4, cropNLayers: 1 };
    const all = await createRegionExtractor(pack, { amg }).extract(png);
    const cropped = await createRegionExtractor(pack, { amg, maxRegions: 5 }).extract(png);
    expect(all.regions.length).toBeGreaterThan(5);
    // Cross-crop NMS orders by crop size; the result must still be sorted by predicted IoU.
    const ious = all.regions.map((r) => r.predictedIou);
    expect(ious).toEqual([...ious].sort((a, b) => b - a));
    expect(cropped.regions.map((r) => r.bbox)).toEqual(all.regions.slice(0, 5).map((r) => r.bbox));
    for (const r of cropped.regions) expect(r.mask.size).toEqual([H, W]);
  });

  it("rejects bad input with ImageInputError", async () => {
    const gif = await sharp(Buffer.from(SVG)).gif().toBuffer();
    const err = await createRegionExtractor(pack)
      .extract(gif)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageInputError);
    expect((err as ImageInputError).code).toBe("unsupported_media_type");
  });
});

describe("createTextEmbedder", () => {
  it("returns deterministic unit vectors that differ between texts", async () => {
    const text = createTextEmbedder(pack);
    expect(text.pack).toBe(pack.id);
    const a = await text.embedText("a red circle"),
      b = await text.embedText("a red circle"),
      c = await text.embedText("a blue square");
    expect(a).toHaveLength(pack.vectorDim);
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});
