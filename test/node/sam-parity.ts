/**
 * Parity of an exported SAM segmenter against the PyTorch fixtures `export.sam_parity` writes
 * (`DIR/parity/segmenter-*`): the measurements, shared by the CI test (production-sam.test.ts, ViT-B,
 * asserts) and the full-size scripted check (test/bench/production-sam-parity.ts, ViT-H, prints).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import { loadModelPack, type LoadPackOptions, type ModelPack } from "../../src/node/models/pack.js";
import {
  segmenterGeometry,
  segmenterInput,
  type RgbImage,
} from "../../src/node/models/preprocess.js";
import { createSegmenter } from "../../src/node/models/segmenter.js";
import { ort } from "../../src/node/models/session.js";
import { packWithSegmenter } from "./pack-helpers.js";
import { maxAbsDiff, readMeta, readTensor, type FixtureMeta } from "./parity-fixtures.js";

export interface Fixture {
  dir: string;
  meta: FixtureMeta;
  feeds: Record<string, ort.Tensor>;
  want: Record<string, Float32Array>;
}

export const DECODER_OUTPUTS = ["masks", "iou_predictions", "low_res_masks"] as const;
export const BATCHED_OUTPUTS = ["iou_predictions", "low_res_masks"] as const;

/** One fixture folder of `export.sam_parity`: `name` is e.g. "segmenter-encoder". */
export function fixture(dir: string, name: string): Fixture {
  const d = path.join(dir, "parity", name);
  const meta = readMeta(d);
  const feeds = Object.fromEntries(meta.inputs.map((t) => [t.name, readTensor(d, t)]));
  const want = Object.fromEntries(
    meta.outputs.map((t) => [t.name, readTensor(d, t).data as Float32Array]),
  );
  return { dir: d, meta, feeds, want };
}

/** A pack around the folder's segmenter (bundled embedder), loaded with `roles`; and the test image. */
export async function loadSamParityDir(
  dir: string,
  name: string,
  options: LoadPackOptions = {},
): Promise<{ pack: ModelPack; image: RgbImage }> {
  const section = JSON.parse(await readFile(path.join(dir, "segmenter.json"), "utf8"));
  await packWithSegmenter(dir, section, name);
  const pack = await loadModelPack(dir, {
    roles: ["encoder", "decoder", "batchedDecoder"],
    ...options,
  });
  const meta = JSON.parse(await readFile(path.join(dir, "image.json"), "utf8"));
  const image = {
    height: meta.height,
    width: meta.width,
    data: new Uint8Array(await readFile(path.join(dir, meta.file))),
  };
  return { pack, image };
}

export async function runSession(
  session: InferenceSession | undefined,
  feeds: Record<string, ort.Tensor>,
  names: readonly string[],
) {
  if (!session) throw new Error("session not loaded");
  const out = await session.run(feeds, names);
  return Object.fromEntries(names.map((n) => [n, out[n]!]));
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Rows [from, to) of a [B, ...] float tensor. */
export function rows(
  t: ort.Tensor | Float32Array,
  rowLength: number,
  from: number,
  to: number,
): Float32Array {
  const data = t instanceof Float32Array ? t : (t.data as Float32Array);
  return data.subarray(from * rowLength, to * rowLength);
}

export interface EncoderParity {
  /** max |TypeScript preprocessing − segment-anything's preprocessing| of the encoder input. */
  inputMaxAbsDiff: number;
  maxAbsDiff: number;
  cosine: number;
  /** Largest |value| of PyTorch's embeddings (scale of the diff). */
  maxAbs: number;
  /** One `encode` (preprocessing + encoder) in ms. */
  ms: number;
}

/** The pipeline's own preprocessing + encoder on the test image vs PyTorch on SAM's preprocessing. */
export async function encoderParity(
  pack: ModelPack,
  dir: string,
  image: RgbImage,
): Promise<EncoderParity> {
  const enc = fixture(dir, "segmenter-encoder");
  const seg = pack.manifest.segmenter;
  const tsInput = segmenterInput(
    image,
    segmenterGeometry(image.height, image.width, seg.imageSize),
    seg.pixelMean,
    seg.pixelStd,
  );
  const inputMaxAbsDiff = maxAbsDiff(tsInput, enc.feeds["image"]!.data as Float32Array);
  const t = performance.now();
  const encoding = await createSegmenter(pack).encode(image);
  const ms = performance.now() - t;
  const got = encoding.embeddings.data as Float32Array;
  const want = enc.want["image_embeddings"]!;
  let maxAbs = 0;
  for (const v of want) maxAbs = Math.max(maxAbs, Math.abs(v));
  return {
    inputMaxAbsDiff,
    maxAbsDiff: maxAbsDiff(got, want),
    cosine: cosine(got, want),
    maxAbs,
    ms,
  };
}

/** max |ORT − PyTorch| of every output of the official single-prompt decoder; and its output dims. */
export async function decoderParity(
  pack: ModelPack,
  dir: string,
): Promise<{ diffs: Record<string, number>; masksDims: number[] }> {
  const f = fixture(dir, "segmenter-decoder");
  const out = await runSession(pack.sessions.decoder, f.feeds, DECODER_OUTPUTS);
  const diffs = Object.fromEntries(
    DECODER_OUTPUTS.map((n) => [n, maxAbsDiff(out[n]!.data as Float32Array, f.want[n]!)]),
  );
  return { diffs, masksDims: Array.from(out["masks"]!.dims) };
}

export interface BatchedParity {
  diffs: Record<string, number>;
  /** max |batched prompt k − single decoder on prompt k alone| over every prompt. */
  promptVsSingle: number;
  prompts: number;
  /** The batched call in ms. */
  ms: number;
}

export async function batchedParity(pack: ModelPack, dir: string): Promise<BatchedParity> {
  const f = fixture(dir, "segmenter-decoder-batched");
  const t = performance.now();
  const out = await runSession(pack.sessions.batchedDecoder, f.feeds, BATCHED_OUTPUTS);
  const ms = performance.now() - t;
  const diffs = Object.fromEntries(
    BATCHED_OUTPUTS.map((n) => [n, maxAbsDiff(out[n]!.data as Float32Array, f.want[n]!)]),
  );
  const low = 4 * 256 * 256;
  const b = f.feeds["point_coords"]!.dims[0]!;
  const s = pack.manifest.segmenter.imageSize;
  let worst = 0;
  for (let k = 0; k < b; k++) {
    const one = (name: string, len: number, dims: number[]) =>
      new ort.Tensor("float32", rows(f.feeds[name]!, len, k, k + 1).slice(), dims);
    const single = await runSession(
      pack.sessions.decoder,
      {
        image_embeddings: f.feeds["image_embeddings"]!,
        point_coords: one("point_coords", 4, [1, 2, 2]),
        point_labels: one("point_labels", 2, [1, 2]),
        mask_input: one("mask_input", 256 * 256, [1, 1, 256, 256]),
        has_mask_input: one("has_mask_input", 1, [1]),
        orig_im_size: new ort.Tensor("float32", Float32Array.of(s, s), [2]),
      },
      BATCHED_OUTPUTS,
    );
    worst = Math.max(
      worst,
      maxAbsDiff(
        single["low_res_masks"]!.data as Float32Array,
        rows(out["low_res_masks"]!, low, k, k + 1),
      ),
      maxAbsDiff(
        single["iou_predictions"]!.data as Float32Array,
        rows(out["iou_predictions"]!, 4, k, k + 1),
      ),
    );
  }
  return { diffs, promptVsSingle: worst, prompts: b, ms };
}
