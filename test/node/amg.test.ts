/**
 * The AMG driver against a fake segmenter whose "decoder" returns, for a prompt on a coloured
 * rectangle, logits that are +8 on that colour and −8 elsewhere. This checks the driver's
 * geometry (grid → resized frame → low-res logits → original pixels), filters, NMS and crops
 * without any model.
 */
import { describe, expect, it } from "vitest";
import { resolveAmgParams } from "../../src/lib/amg/params.js";
import { generateMasks } from "../../src/node/models/amg.js";
import { segmenterGeometry, type RgbImage } from "../../src/node/models/preprocess.js";
import type { DecodedBatch, ImageEncoding, Segmenter } from "../../src/node/models/segmenter.js";
import { ort } from "../../src/node/models/session.js";

// Low-res grid as fine as the padded frame (SAM's is S/4): one low-res pixel = 200/64 original pixels.
const S = 64,
  LOW = 64;
const W = 200,
  H = 120;
const RECTS = [
  { x0: 20, y0: 20, x1: 80, y1: 70, rgb: [255, 0, 0] },
  { x0: 120, y0: 40, x1: 180, y1: 100, rgb: [0, 0, 255] },
];

function scene(): RgbImage {
  const data = new Uint8Array(W * H * 3).fill(255);
  for (const r of RECTS)
    for (let y = r.y0; y < r.y1; y++)
      for (let x = r.x0; x < r.x1; x++) data.set(r.rgb, (y * W + x) * 3);
  return { width: W, height: H, data };
}

function fakeSegmenter(): Segmenter & { encodes: number } {
  const images = new WeakMap<ImageEncoding, RgbImage>();
  const colourAt = (img: RgbImage, x: number, y: number): number => {
    const xi = Math.min(img.width - 1, Math.floor(x)),
      yi = Math.min(img.height - 1, Math.floor(y));
    const p = (yi * img.width + xi) * 3;
    return (img.data[p]! << 16) | (img.data[p + 1]! << 8) | img.data[p + 2]!;
  };
  const seg = {
    usesBatchedDecoder: true,
    imageSize: S,
    encodes: 0,
    async encode(image: RgbImage) {
      seg.encodes++;
      const enc: ImageEncoding = {
        embeddings: new ort.Tensor("float32", new Float32Array(16), [1, 1, 4, 4]),
        height: image.height,
        width: image.width,
        geometry: segmenterGeometry(image.height, image.width, S),
      };
      images.set(enc, image);
      return enc;
    },
    async decode(enc: ImageEncoding, points: Float32Array): Promise<DecodedBatch> {
      const img = images.get(enc)!;
      const { resizedW, resizedH } = enc.geometry;
      const b = points.length / 2,
        m = 4,
        plane = LOW * LOW;
      const low = new Float32Array(b * m * plane).fill(-8);
      const iou = new Float32Array(b * m);
      for (let p = 0; p < b; p++) {
        iou.set([0.5, 0.95, 0.9, 0.7], p * m);
        const colour = colourAt(
          img,
          (points[p * 2]! * img.width) / resizedW,
          (points[p * 2 + 1]! * img.height) / resizedH,
        );
        if (colour === 0xffffff) continue;
        for (let i = 0; i < LOW; i++) {
          for (let j = 0; j < LOW; j++) {
            const px = (((j + 0.5) * S) / LOW) * (img.width / resizedW),
              py = (((i + 0.5) * S) / LOW) * (img.height / resizedH);
            if (px >= img.width || py >= img.height || colourAt(img, px, py) !== colour) continue;
            for (let k = 0; k < m; k++) low[(p * m + k) * plane + i * LOW + j] = 8;
          }
        }
      }
      return {
        batchSize: b,
        masksPerPrompt: m,
        lowH: LOW,
        lowW: LOW,
        iouPredictions: iou,
        lowResLogits: low,
      };
    },
  };
  return seg;
}

function rectIou(mask: Uint8Array, r: (typeof RECTS)[number]): number {
  let inter = 0,
    union = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const a = mask[y * W + x] !== 0,
        b = x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
      inter += a && b ? 1 : 0;
      union += a || b ? 1 : 0;
    }
  }
  return inter / union;
}

describe("generateMasks (AMG driver)", () => {
  it("finds each rectangle once, at original resolution, with a box that matches its mask", async () => {
    const seg = fakeSegmenter(),
      timings: Record<string, number> = {};
    const regions = await generateMasks(
      seg,
      scene(),
      resolveAmgParams({ pointsPerSide: 12, pointsPerBatch: 7 }),
      0,
      timings,
    );
    expect(regions).toHaveLength(2);
    expect(seg.encodes).toBe(1);
    for (const r of regions) {
      expect(r.mask).toHaveLength(W * H);
      const best = Math.max(...RECTS.map((rect) => rectIou(r.mask, rect)));
      expect(best).toBeGreaterThan(0.9);
      // Edges land within one low-res pixel (3.1 px) of the truth: no shift, no scale error.
      const rect = RECTS.find((q) => rectIou(r.mask, q) === best)!;
      [rect.x0, rect.y0, rect.x1 - 1, rect.y1 - 1].forEach((v, k) =>
        expect(Math.abs(r.boxXyxy[k]! - v)).toBeLessThanOrEqual(3.2),
      );
      expect(r.predictedIou).toBeCloseTo(0.95, 5);
      // SAM scores the UPSAMPLED mask: its edges ramp from +8 to −8 across a low-res pixel, so a
      // thin band lies between the ±1 thresholds (on the low-res logits the score would be 1).
      expect(r.stability).toBeGreaterThan(0.95);
      expect(r.stability).toBeLessThan(1);
      let area = 0,
        x0 = W,
        y0 = H,
        x1 = -1,
        y1 = -1;
      r.mask.forEach((v, i) => {
        if (!v) return;
        area++;
        const x = i % W,
          y = (i - x) / W;
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      });
      expect(r.area).toBe(area);
      expect(r.boxXyxy).toEqual([x0, y0, x1, y1]);
    }
    for (const stage of ["decoder", "filter", "upsample"])
      expect(timings[stage]).toBeGreaterThanOrEqual(0);
  });

  it("drops everything when the predicted-IoU threshold is above every prediction", async () => {
    const regions = await generateMasks(
      fakeSegmenter(),
      scene(),
      resolveAmgParams({ pointsPerSide: 8, predIouThresh: 0.96 }),
      0,
      {},
    );
    expect(regions).toHaveLength(0);
  });

  it("runs crop layers: encodes every crop and still returns each object once", async () => {
    const seg = fakeSegmenter();
    const params = resolveAmgParams({
      pointsPerSide: 12,
      cropNLayers: 1,
      cropNPointsDownscaleFactor: 2,
    });
    const regions = await generateMasks(seg, scene(), params, 0, {});
    expect(seg.encodes).toBe(5);
    expect(regions).toHaveLength(2);
    for (const r of regions)
      expect(Math.max(...RECTS.map((rect) => rectIou(r.mask, rect)))).toBeGreaterThan(0.9);
  });

  it("applies the small-region clean-up when asked", async () => {
    const regions = await generateMasks(
      fakeSegmenter(),
      scene(),
      resolveAmgParams({ pointsPerSide: 8, minMaskRegionArea: 50 }),
      0,
      {},
    );
    expect(regions).toHaveLength(2);
  });
});
