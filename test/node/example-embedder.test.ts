/**
 * Query by example on the bundled pack: a prompt through the interactive decoder becomes one region
 * embedded by ingestion's own code, so its vector lives in the stored layout. Structural checks and
 * equalities with the extractor; quality is the benchmarks' business (the pack may be random).
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rleDecodeToRowMajor } from "../../src/lib/masks/rle-decode.js";
import { rleArea, rleToBoxXywh } from "../../src/lib/masks/rle.js";
import { decodeImage } from "../../src/node/imaging/index.js";
import { extractionRoles, loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { chosenMaskIndex, promptInputs } from "../../src/node/models/prompted.js";
import { createExampleEmbedder } from "../../src/node/pipeline/example-embedder.js";
import { createRegionEmbedding, createRegionExtractor } from "../../src/node/pipeline/extractor.js";
import { createWorkerExtractor } from "../../src/node/pipeline/worker-extractor.js";
import { PACK_DIR } from "./pack-helpers.js";

const W = 320,
  H = 240;
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
  <rect width="100%" height="100%" fill="#d8d2c4"/>
  <circle cx="80" cy="80" r="50" fill="#d62828"/>
  <rect x="170" y="40" width="110" height="90" fill="#1d4ed8"/>
</svg>`;

let pack: ModelPack;
let png: Uint8Array;
const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

beforeAll(async () => {
  pack = await loadModelPack(PACK_DIR, {
    session: { intraOpNumThreads: 1 },
    roles: extractionRoles,
  });
  png = await sharp(Buffer.from(SVG)).png().toBuffer();
});
afterAll(async () => {
  await pack?.release();
});

describe("prompt inputs (SAM's ONNX contract)", () => {
  const enc = { width: 320, height: 240, geometry: { size: 256, resizedW: 256, resizedH: 192 } };
  it("a point is scaled to the resized frame and padded with (0, 0) label −1", () => {
    const { coords, labels } = promptInputs({ point: [160, 120] }, enc);
    expect([...coords]).toEqual([128, 96, 0, 0]);
    expect([...labels]).toEqual([1, -1]);
  });
  it("a box [x, y, w, h] becomes its two corners with labels 2 and 3, no padding", () => {
    const { coords, labels } = promptInputs({ box: [40, 30, 80, 60] }, enc);
    expect([...coords]).toEqual([32, 24, 96, 72]);
    expect([...labels]).toEqual([2, 3]);
  });
  it("a point keeps the best multimask output (1..3); a box the single-mask output 0", () => {
    const iou = Float32Array.of(0.99, 0.2, 0.7, 0.5);
    expect(chosenMaskIndex({ point: [1, 1] }, iou)).toBe(2);
    expect(chosenMaskIndex({ box: [0, 0, 1, 1] }, iou)).toBe(0);
  });
});

describe("createExampleEmbedder on the bundled pack", () => {
  it("a point gives one region with a consistent mask and a unit vector of the stored size", async () => {
    const ex = await createExampleEmbedder(pack).embedExample(png, { point: [80, 80] });
    expect([ex.width, ex.height]).toEqual([W, H]);
    expect(ex.vector).toHaveLength(pack.vectorDim);
    expect(norm(ex.vector)).toBeCloseTo(1, 5);
    expect(rleArea(ex.mask)).toBe(ex.area);
    expect(rleToBoxXywh(ex.mask)).toEqual(ex.bbox);
    expect(ex.area).toBeGreaterThan(0);
    for (const stage of ["decode", "encoder", "decoder", "embed", "total"])
      expect(ex.timings[stage], stage).toBeGreaterThanOrEqual(0);
  });

  it("a box prompt's region lies mostly inside the box", async () => {
    const box: [number, number, number, number] = [160, 30, 130, 110];
    const ex = await createExampleEmbedder(pack).embedExample(png, { box });
    const mask = rleDecodeToRowMajor(ex.mask);
    let inside = 0;
    for (let y = box[1]; y < box[1] + box[3]; y++)
      for (let x = box[0]; x < box[0] + box[2]; x++) inside += mask[y * W + x]!;
    expect(inside / ex.area).toBeGreaterThan(0.5);
  });

  it("prompts outside the image → invalid_request; undecodable bytes → invalid_image", async () => {
    const embedder = createExampleEmbedder(pack);
    await expect(embedder.embedExample(png, { point: [W, 10] })).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(embedder.embedExample(png, { box: [300, 0, 40, 10] })).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(
      embedder.embedExample(png.subarray(0, 200), { point: [1, 1] }),
    ).rejects.toMatchObject({
      code: "invalid_image",
    });
  });

  it("ingestion's embedding of a region, asked for alone, gives the vector the extractor stored", async () => {
    const amg = { pointsPerSide: 4, predIouThresh: 0, stabilityScoreThresh: 0 };
    const extracted = await createRegionExtractor(pack, { amg }).extract(png);
    const region = extracted.regions[0]!;
    const image = await decodeImage(png);
    const [x, y, w, h] = region.bbox;
    const mask = rleDecodeToRowMajor(region.mask);
    const [alone] = await createRegionEmbedding(pack, 8)(
      image,
      [
        {
          mask,
          boxXyxy: [x, y, x + w - 1, y + h - 1],
          area: region.area,
          predictedIou: 0,
          stability: 0,
        },
      ],
      {},
      { wholeImage: false },
    );
    let dot = 0;
    for (let i = 0; i < alone!.length; i++) dot += alone![i]! * region.vector[i]!;
    expect(dot).toBeGreaterThan(0.99999);
  });

  it("on the model worker it answers as on this thread", async () => {
    const worker = createWorkerExtractor(pack.id, {
      packDir: PACK_DIR,
      session: { intraOpNumThreads: 1 },
      extractor: {},
    });
    try {
      const [here, there] = await Promise.all([
        createExampleEmbedder(pack).embedExample(png, { point: [220, 80] }),
        worker.embedExample(png, { point: [220, 80] }),
      ]);
      expect(there.mask).toEqual(here.mask);
      expect(Array.from(there.vector)).toEqual(Array.from(here.vector));
      await expect(worker.embedExample(png, { point: [-1, 0] })).rejects.toMatchObject({
        code: "invalid_request",
      });
    } finally {
      await worker.close();
    }
  });
});
