/**
 * SAM ViT-B at full size (1024² input, 256×64×64 embeddings) with seeded random weights, exported
 * by infra/models/export (the production-pack exporter), loaded by the project's pack loader and
 * run through onnxruntime-node: every output within 1e-4 of PyTorch's, the batched decoder's
 * prompt k equal to the official decoder on prompt k alone, and the pipeline's TypeScript
 * preprocessing giving the same embeddings as segment-anything's own preprocessing.
 *
 * Cost: one ViT-B export and one encoder run on each side (~370 GFLOP each), see beforeAll.
 * `SAM_PARITY_DIR=<dir>` reuses a folder already written by `export.sam_parity` (development only).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAM_AMG_DEFAULTS } from "../../src/lib/amg/params.js";
import type { ModelPack } from "../../src/node/models/pack.js";
import { segmenterGeometry, type RgbImage } from "../../src/node/models/preprocess.js";
import { createSegmenter, type ImageEncoding } from "../../src/node/models/segmenter.js";
import { maxAbsDiff } from "./parity-fixtures.js";
import {
  batchedParity,
  decoderParity,
  encoderParity,
  fixture,
  loadSamParityDir,
  rows,
} from "./sam-parity.js";

const MODELS = path.resolve(import.meta.dirname, "../../infra/models");
const TOL = 1e-4;
const SETUP_MS = 20 * 60_000;

const REUSE = process.env["SAM_PARITY_DIR"];
let dir = "";
let pack: ModelPack;
let image: RgbImage;

beforeAll(async () => {
  dir = REUSE ?? (await mkdtemp(path.join(tmpdir(), "sam-vit-b-")));
  if (!REUSE) {
    const { stderr } = await promisify(execFile)(
      "/usr/bin/python3",
      [
        "-m",
        "export.sam_parity",
        "--arch",
        "vit_b",
        "--random-weights",
        "--seed",
        "0",
        "--out",
        dir,
      ],
      { cwd: MODELS, timeout: SETUP_MS, maxBuffer: 16 << 20 },
    );
    console.log(`[production-sam] ${stderr.trim().split("\n").at(-1)}`);
  }
  ({ pack, image } = await loadSamParityDir(dir, "sam-vit-b-random"));
}, SETUP_MS);

afterAll(async () => {
  await pack?.release();
  if (dir && !REUSE) await rm(dir, { recursive: true, force: true });
});

describe("production SAM ViT-B pack (random weights, full size)", () => {
  it("loads with the project's pack loader: SAM's sizes from the manifest, SAM's AMG defaults", () => {
    const seg = pack.manifest.segmenter;
    expect(seg.imageSize).toBe(1024);
    expect(seg.encoder.outputs[0]!.shape).toEqual([1, 256, 64, 64]);
    expect(seg.batchedDecoder!.outputs.find((t) => t.name === "low_res_masks")!.shape).toEqual([
      "B",
      4,
      256,
      256,
    ]);
    expect(pack.amg).toEqual(SAM_AMG_DEFAULTS);
  });

  it(
    "TypeScript preprocessing + encoder match segment-anything's preprocessing + PyTorch",
    { timeout: 10 * 60_000 },
    async () => {
      const r = await encoderParity(pack, dir, image);
      console.log(
        `[production-sam] encoder: input max |ts − sam| ${r.inputMaxAbsDiff.toExponential(2)}, embeddings max |ort − torch| ${r.maxAbsDiff.toExponential(2)}, cosine ${r.cosine.toFixed(7)}`,
      );
      expect(r.inputMaxAbsDiff).toBeLessThanOrEqual(1e-5); // float64 vs float32 normalisation: an ulp or so
      expect(r.maxAbsDiff).toBeLessThanOrEqual(TOL);
      expect(r.cosine).toBeGreaterThanOrEqual(0.999);
    },
  );

  it(
    "official single-prompt decoder (points of every label, mask prompt, original size) matches PyTorch",
    { timeout: 5 * 60_000 },
    async () => {
      const { diffs, masksDims } = await decoderParity(pack, dir);
      expect(masksDims).toEqual([1, 4, image.height, image.width]);
      expect(Object.keys(diffs)).toEqual(["masks", "iou_predictions", "low_res_masks"]);
      for (const [name, diff] of Object.entries(diffs)) {
        console.log(`[production-sam] decoder ${name}: max |ort − torch| ${diff.toExponential(2)}`);
        expect(diff, name).toBeLessThanOrEqual(TOL);
      }
    },
  );

  it(
    "batched decoder matches PyTorch, and its prompt k equals the single decoder on prompt k alone",
    { timeout: 5 * 60_000 },
    async () => {
      const r = await batchedParity(pack, dir);
      expect(Object.keys(r.diffs)).toEqual(["iou_predictions", "low_res_masks"]);
      for (const [name, diff] of Object.entries(r.diffs)) {
        console.log(
          `[production-sam] batched decoder ${name}: max |ort − torch| ${diff.toExponential(2)}`,
        );
        expect(diff, name).toBeLessThanOrEqual(TOL);
      }
      console.log(
        `[production-sam] batched prompt k vs single decoder: max diff ${r.promptVsSingle.toExponential(2)} over ${r.prompts} prompts`,
      );
      expect(r.prompts).toBe(4);
      expect(r.promptVsSingle).toBeLessThanOrEqual(TOL);
    },
  );

  it(
    "the pipeline's decode (batched and one-by-one) gives PyTorch's masks for AMG-style prompts",
    { timeout: 5 * 60_000 },
    async () => {
      const f = fixture(dir, "segmenter-decoder-batched");
      const coords = f.feeds["point_coords"]!.data as Float32Array; // [B, 2, 2]: point, then padding
      const points = Float32Array.of(
        coords[0]!,
        coords[1]!,
        coords[4]!,
        coords[5]!,
        coords[8]!,
        coords[9]!,
      );
      const encoding: ImageEncoding = {
        embeddings: f.feeds["image_embeddings"]!,
        height: 1024,
        width: 1024,
        geometry: segmenterGeometry(1024, 1024, 1024),
      };
      for (const preferSingleDecoder of [false, true]) {
        const seg = createSegmenter(pack, { preferSingleDecoder });
        expect(seg.usesBatchedDecoder).toBe(!preferSingleDecoder);
        const got = await seg.decode(encoding, points);
        expect([got.batchSize, got.masksPerPrompt, got.lowH, got.lowW]).toEqual([3, 4, 256, 256]);
        expect(
          maxAbsDiff(got.lowResLogits, rows(f.want["low_res_masks"]!, 4 * 256 * 256, 0, 3)),
        ).toBeLessThanOrEqual(TOL);
        expect(
          maxAbsDiff(got.iouPredictions, rows(f.want["iou_predictions"]!, 4, 0, 3)),
        ).toBeLessThanOrEqual(TOL);
      }
    },
  );
});
