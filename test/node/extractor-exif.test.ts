/**
 * EXIF orientation through the real extractor (decoder + bundled models), issue 8 item 2: a JPEG
 * stored sideways with orientation 6 or 8 yields masks in UPRIGHT coordinates — the image size is
 * the upright one, every mask has the upright size, and a region lands on the object where the
 * upright image shows it.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boxIouXyxy, boxXywhToXyxy } from "../../src/lib/masks/boxes.js";
import { loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { createRegionExtractor } from "../../src/node/pipeline/extractor.js";
import { PACK_DIR } from "./pack-helpers.js";

// Stored 320×240: one large blue square on a plain background.
const W = 320,
  H = 240;
const OBJ = { x: 40, y: 30, w: 120, h: 120 };
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
  <rect width="100%" height="100%" fill="#d8d2c4"/>
  <rect x="${OBJ.x}" y="${OBJ.y}" width="${OBJ.w}" height="${OBJ.h}" fill="#1d4ed8"/>
</svg>`;

let pack: ModelPack;
beforeAll(async () => {
  pack = await loadModelPack(PACK_DIR, { session: { intraOpNumThreads: 1 } });
});
afterAll(() => pack?.release());

describe("real extractor on EXIF-rotated JPEGs", () => {
  const cases = [
    // 6: rotate 90° clockwise to view — stored (x, y) goes to (H − 1 − y, x).
    { orientation: 6, box: [H - OBJ.y - OBJ.h, OBJ.x, OBJ.h, OBJ.w] },
    // 8: rotate 90° counter-clockwise — stored (x, y) goes to (y, W − 1 − x).
    { orientation: 8, box: [OBJ.y, W - OBJ.x - OBJ.w, OBJ.h, OBJ.w] },
  ];
  for (const { orientation, box } of cases) {
    it(`orientation ${orientation}: upright size, upright masks, the object's region where it stands upright`, async () => {
      const jpeg = await sharp(Buffer.from(SVG))
        .jpeg({ quality: 95 })
        .withMetadata({ orientation })
        .toBuffer();
      const extractor = createRegionExtractor(pack, {
        amg: { pointsPerSide: 8, predIouThresh: 0, stabilityScoreThresh: 0 },
        embedBatchSize: 4,
      });
      const result = await extractor.extract(jpeg);
      expect([result.width, result.height]).toEqual([H, W]);
      expect(result.regions.length).toBeGreaterThan(0);
      for (const r of result.regions) expect(r.mask.size).toEqual([W, H]);
      const expected = boxXywhToXyxy(box as [number, number, number, number]);
      const best = Math.max(
        ...result.regions.map((r) => boxIouXyxy(boxXywhToXyxy(r.bbox), expected)),
      );
      expect(best).toBeGreaterThan(0.8);
    }, 120_000);
  }
});
