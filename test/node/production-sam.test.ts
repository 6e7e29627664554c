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
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { InferenceSession } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAM_AMG_DEFAULTS } from "../../src/lib/amg/index.js";
import { loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { segmenterGeometry, segmenterInput, type RgbImage } from "../../src/node/models/preprocess.js";
import { createSegmenter, type ImageEncoding } from "../../src/node/models/segmenter.js";
import { ort } from "../../src/node/models/session.js";
import { packWithSegmenter } from "./pack-helpers.js";
import { maxAbsDiff, readMeta, readTensor, type FixtureMeta } from "./parity-fixtures.js";

const MODELS = path.resolve(import.meta.dirname, "../../infra/models");
const TOL = 1e-4;
const SETUP_MS = 20 * 60_000;

const REUSE = process.env["SAM_PARITY_DIR"];
let dir = "";
let pack: ModelPack;
let image: RgbImage;

interface Fixture { dir: string; meta: FixtureMeta; feeds: Record<string, ort.Tensor>; want: Record<string, Float32Array> }

function fixture(name: string): Fixture {
  const d = path.join(dir, "parity", name);
  const meta = readMeta(d);
  const feeds = Object.fromEntries(meta.inputs.map((t) => [t.name, readTensor(d, t)]));
  const want = Object.fromEntries(meta.outputs.map((t) => [t.name, readTensor(d, t).data as Float32Array]));
  return { dir: d, meta, feeds, want };
}

async function run(session: InferenceSession | undefined, feeds: Record<string, ort.Tensor>, names: string[]) {
  expect(session).toBeDefined();
  const out = await session!.run(feeds, names);
  return Object.fromEntries(names.map((n) => [n, out[n]!]));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

/** Rows [from, to) of a [B, ...] float tensor. */
function rows(t: ort.Tensor | Float32Array, rowLength: number, from: number, to: number): Float32Array {
  const data = t instanceof Float32Array ? t : (t.data as Float32Array);
  return data.subarray(from * rowLength, to * rowLength);
}

beforeAll(async () => {
  dir = REUSE ?? (await mkdtemp(path.join(tmpdir(), "sam-vit-b-")));
  if (!REUSE) {
    const { stderr } = await promisify(execFile)(
      "/usr/bin/python3", ["-m", "export.sam_parity", "--arch", "vit_b", "--random-weights", "--seed", "0", "--out", dir],
      { cwd: MODELS, timeout: SETUP_MS, maxBuffer: 16 << 20 },
    );
    console.log(`[production-sam] ${stderr.trim().split("\n").at(-1)}`);
  }
  const section = JSON.parse(await readFile(path.join(dir, "segmenter.json"), "utf8"));
  await packWithSegmenter(dir, section, "sam-vit-b-random");
  pack = await loadModelPack(dir, { roles: ["encoder", "decoder", "batchedDecoder"] });
  const meta = JSON.parse(await readFile(path.join(dir, "image.json"), "utf8"));
  image = { height: meta.height, width: meta.width, data: new Uint8Array(await readFile(path.join(dir, meta.file))) };
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
    expect(seg.batchedDecoder!.outputs.find((t) => t.name === "low_res_masks")!.shape).toEqual(["B", 4, 256, 256]);
    expect(pack.amg).toEqual(SAM_AMG_DEFAULTS);
  });

  it("TypeScript preprocessing + encoder match segment-anything's preprocessing + PyTorch", { timeout: 10 * 60_000 }, async () => {
    const enc = fixture("segmenter-encoder");
    const geometry = segmenterGeometry(image.height, image.width, 1024);
    const tsInput = segmenterInput(image, geometry, pack.manifest.segmenter.pixelMean, pack.manifest.segmenter.pixelStd);
    const inputDiff = maxAbsDiff(tsInput, enc.feeds["image"]!.data as Float32Array);
    const encoding = await createSegmenter(pack).encode(image);
    const got = encoding.embeddings.data as Float32Array;
    const want = enc.want["image_embeddings"]!;
    const diff = maxAbsDiff(got, want), cos = cosine(got, want);
    console.log(`[production-sam] encoder: input max |ts − sam| ${inputDiff.toExponential(2)}, embeddings max |ort − torch| ${diff.toExponential(2)}, cosine ${cos.toFixed(7)}`);
    expect(inputDiff).toBeLessThanOrEqual(1e-5); // float64 vs float32 normalisation: an ulp or so
    expect(diff).toBeLessThanOrEqual(TOL);
    expect(cos).toBeGreaterThanOrEqual(0.999);
  });

  it("official single-prompt decoder (points of every label, mask prompt, original size) matches PyTorch", { timeout: 5 * 60_000 }, async () => {
    const f = fixture("segmenter-decoder");
    const out = await run(pack.sessions.decoder, f.feeds, ["masks", "iou_predictions", "low_res_masks"]);
    expect(Array.from(out["masks"]!.dims)).toEqual([1, 4, image.height, image.width]);
    for (const name of ["masks", "iou_predictions", "low_res_masks"]) {
      const diff = maxAbsDiff(out[name]!.data as Float32Array, f.want[name]!);
      console.log(`[production-sam] decoder ${name}: max |ort − torch| ${diff.toExponential(2)}`);
      expect(diff, name).toBeLessThanOrEqual(TOL);
    }
  });

  it("batched decoder matches PyTorch, and its prompt k equals the single decoder on prompt k alone", { timeout: 5 * 60_000 }, async () => {
    const f = fixture("segmenter-decoder-batched");
    const out = await run(pack.sessions.batchedDecoder, f.feeds, ["iou_predictions", "low_res_masks"]);
    const low = 4 * 256 * 256;
    for (const name of ["iou_predictions", "low_res_masks"]) {
      const diff = maxAbsDiff(out[name]!.data as Float32Array, f.want[name]!);
      console.log(`[production-sam] batched decoder ${name}: max |ort − torch| ${diff.toExponential(2)}`);
      expect(diff, name).toBeLessThanOrEqual(TOL);
    }
    const b = f.feeds["point_coords"]!.dims[0]!;
    let worst = 0;
    for (let k = 0; k < b; k++) {
      const one = (name: string, len: number, dims: number[]) => new ort.Tensor("float32", rows(f.feeds[name]!, len, k, k + 1).slice(), dims);
      const single = await run(pack.sessions.decoder, {
        image_embeddings: f.feeds["image_embeddings"]!,
        point_coords: one("point_coords", 4, [1, 2, 2]),
        point_labels: one("point_labels", 2, [1, 2]),
        mask_input: one("mask_input", 256 * 256, [1, 1, 256, 256]),
        has_mask_input: one("has_mask_input", 1, [1]),
        orig_im_size: new ort.Tensor("float32", Float32Array.of(1024, 1024), [2]),
      }, ["iou_predictions", "low_res_masks"]);
      worst = Math.max(worst,
        maxAbsDiff(single["low_res_masks"]!.data as Float32Array, rows(out["low_res_masks"]!, low, k, k + 1)),
        maxAbsDiff(single["iou_predictions"]!.data as Float32Array, rows(out["iou_predictions"]!, 4, k, k + 1)));
    }
    console.log(`[production-sam] batched prompt k vs single decoder: max diff ${worst.toExponential(2)} over ${b} prompts`);
    expect(worst).toBeLessThanOrEqual(TOL);
  });

  it("the pipeline's decode (batched and one-by-one) gives PyTorch's masks for AMG-style prompts", { timeout: 5 * 60_000 }, async () => {
    const f = fixture("segmenter-decoder-batched");
    const coords = f.feeds["point_coords"]!.data as Float32Array; // [B, 2, 2]: point, then padding
    const points = Float32Array.of(coords[0]!, coords[1]!, coords[4]!, coords[5]!, coords[8]!, coords[9]!);
    const encoding: ImageEncoding = {
      embeddings: f.feeds["image_embeddings"]!, height: 1024, width: 1024, geometry: segmenterGeometry(1024, 1024, 1024),
    };
    for (const preferSingleDecoder of [false, true]) {
      const seg = createSegmenter(pack, { preferSingleDecoder });
      expect(seg.usesBatchedDecoder).toBe(!preferSingleDecoder);
      const got = await seg.decode(encoding, points);
      expect([got.batchSize, got.masksPerPrompt, got.lowH, got.lowW]).toEqual([3, 4, 256, 256]);
      expect(maxAbsDiff(got.lowResLogits, rows(f.want["low_res_masks"]!, 4 * 256 * 256, 0, 3))).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(got.iouPredictions, rows(f.want["iou_predictions"]!, 4, 0, 3))).toBeLessThanOrEqual(TOL);
    }
  });
});
