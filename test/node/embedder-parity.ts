/**
 * Parity of an exported Alpha-CLIP / CLIP embedder against PyTorch's outputs for the same inputs
 * (`infra/models/export/reference.py`): the measurements, shared by the CI test
 * (production-pack.test.ts, ViT-B/16, asserts) and the full-size scripted check
 * (test/bench/production-pack-parity.ts, e.g. ViT-L/14@336px, prints). Sizes come from the manifest.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { AlphaRasterizer } from "../../src/node/models/alpha.js";
import {
  createImageEmbedder,
  createTextTower,
  l2Normalise,
} from "../../src/node/models/embedder.js";
import type { ModelPack } from "../../src/node/models/pack.js";
import { embedderImage } from "../../src/node/models/preprocess.js";
import { ort, runFloat } from "../../src/node/models/session.js";
import { maxAbsDiff } from "./parity-fixtures.js";

interface TensorMeta {
  dtype: "float32" | "int64" | "uint8";
  shape: number[];
  file: string;
}
export type Reference = Record<
  string,
  { data: Float32Array | BigInt64Array | Uint8Array; shape: number[] }
>;

export async function readReference(dir: string): Promise<Reference> {
  const meta = JSON.parse(await readFile(path.join(dir, "meta.json"), "utf8")) as {
    tensors: Record<string, TensorMeta>;
  };
  const out: Reference = {};
  for (const [name, t] of Object.entries(meta.tensors)) {
    const bytes = await readFile(path.join(dir, t.file));
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const data =
      t.dtype === "float32"
        ? new Float32Array(buf)
        : t.dtype === "int64"
          ? new BigInt64Array(buf)
          : new Uint8Array(buf);
    out[name] = { data, shape: t.shape };
  }
  return out;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function row(data: Float32Array, r: number, dim: number): Float32Array {
  return data.slice(r * dim, (r + 1) * dim);
}

const floats = (ref: Reference, name: string) => ref[name]!.data as Float32Array;

export interface ImageTowerParity {
  /** max |ORT − PyTorch| over the B = 2 reference inputs. */
  maxAbsDiff: number;
  /** Largest |value| of PyTorch's output (scale of the diff). */
  maxAbs: number;
  /** max |embedding(image 0, alpha 1) − embedding(image 0, alpha 0)|: > 0 when alpha is used. */
  alphaSwapDiff: number;
  ms: number;
}

export async function imageTowerParity(pack: ModelPack, ref: Reference): Promise<ImageTowerParity> {
  const image = ref["image-tensors"]!,
    alpha = ref["alpha-tensors"]!;
  const { imageSize: s, embedDim: d } = pack.manifest.embedder;
  const t = performance.now();
  const out = (
    await runFloat(
      pack.sessions.image!,
      {
        image: new ort.Tensor("float32", image.data as Float32Array, image.shape),
        alpha: new ort.Tensor("float32", alpha.data as Float32Array, alpha.shape),
      },
      ["embedding"],
    )
  )["embedding"]!;
  const ms = performance.now() - t;
  const want = floats(ref, "image-embedding");
  const plane = s * s;
  const swapped = (
    await runFloat(
      pack.sessions.image!,
      {
        image: new ort.Tensor("float32", (image.data as Float32Array).slice(0, 3 * plane), [
          1,
          3,
          s,
          s,
        ]),
        alpha: new ort.Tensor("float32", (alpha.data as Float32Array).slice(plane), [1, 1, s, s]),
      },
      ["embedding"],
    )
  )["embedding"]!;
  return {
    maxAbsDiff: maxAbsDiff(out.data, want),
    maxAbs: Math.max(...want.map(Math.abs)),
    alphaSwapDiff: maxAbsDiff(swapped.data, row(want, 0, d)),
    ms,
  };
}

/** The plain CLIP image tower (the detail view) on the same images: max |ORT − PyTorch|. */
export async function clipImageTowerParity(
  pack: ModelPack,
  ref: Reference,
): Promise<{ maxAbsDiff: number; maxAbs: number }> {
  const image = ref["image-tensors"]!;
  const out = (
    await runFloat(
      pack.sessions.clipImage!,
      { image: new ort.Tensor("float32", image.data as Float32Array, image.shape) },
      ["embedding"],
    )
  )["embedding"]!;
  const want = floats(ref, "clip-image-embedding");
  return { maxAbsDiff: maxAbsDiff(out.data, want), maxAbs: Math.max(...want.map(Math.abs)) };
}

export interface TextTowerParity {
  maxAbsDiff: number;
  /** The pack's tokenizer gives the reference ids of "a photo of a cat". */
  tokenizerIdsEqual: boolean;
  /** The pipeline's text encoder on "A photo of a  cat" · PyTorch's normalised first row. */
  pipelineCosine: number;
}

export async function textTowerParity(pack: ModelPack, ref: Reference): Promise<TextTowerParity> {
  const ids = ref["input-ids"]!;
  const { embedDim: d } = pack.manifest.embedder;
  const ctx = pack.manifest.tokenizer.contextLength;
  const out = (
    await runFloat(
      pack.sessions.text!,
      { input_ids: new ort.Tensor("int64", ids.data as BigInt64Array, ids.shape) },
      ["embedding"],
    )
  )["embedding"]!;
  const want = floats(ref, "text-embedding");
  const expected = Array.from(ids.data.slice(0, ctx), Number);
  const tokenizerIdsEqual =
    JSON.stringify(pack.tokenizer.encode("a photo of a cat")) === JSON.stringify(expected);
  const [v] = await createTextTower(pack).embed(["A photo of a  cat"]);
  return {
    maxAbsDiff: maxAbsDiff(out.data, want),
    tokenizerIdsEqual,
    pipelineCosine: dot(v!, l2Normalise(row(want, 0, d))),
  };
}

export interface PreprocessingParity {
  /** Cosine of the pipeline's embeddings (TypeScript preprocessing) to PyTorch/PIL's: [region, whole image]. */
  cosines: number[];
  /** Cosine between the region's and the whole image's vectors (< 1: the alphas matter). */
  regionVsWhole: number;
}

export async function preprocessingParity(
  pack: ModelPack,
  ref: Reference,
): Promise<PreprocessingParity> {
  const [h, w] = ref["scene-rgb"]!.shape as [number, number];
  const {
    imageMean,
    imageStd,
    alphaMean,
    alphaStd,
    imageSize,
    embedDim: d,
  } = pack.manifest.embedder;
  const pixels = embedderImage(
    { width: w, height: h, data: ref["scene-rgb"]!.data as Uint8Array },
    imageSize,
    imageMean,
    imageStd,
  );
  const alpha = new AlphaRasterizer(h, w, imageSize, alphaMean, alphaStd);
  const mask = ref["scene-mask"]!.data as Uint8Array;
  const vectors = await createImageEmbedder(pack).embed(pixels.data, [
    (out, offset) => alpha.normalised(mask, null, out, offset),
    (out, offset) => alpha.full(out, offset),
  ]);
  const want = floats(ref, "reference-embedding");
  return {
    cosines: vectors.map((v, r) => dot(v, l2Normalise(row(want, r, d)))),
    regionVsWhole: dot(vectors[0]!, vectors[1]!),
  };
}
