/**
 * Alpha-CLIP passes: region vectors (image + per-region alpha, batched) and text vectors.
 * Every returned vector is L2-normalised (the pack's raw embeddings need not be unit-length).
 */
import type { InferenceSession } from "onnxruntime-node";
import type { ModelSpec } from "./manifest.js";
import type { ModelPack } from "./pack.js";
import { ort, runFloat } from "./session.js";
import { toInputIds } from "./tokenizer.js";

/** Scale `v` in place to unit length (left as is when all zero); returns `v`. */
export function l2Normalise(v: Float32Array): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i]! * v[i]!;
  if (ss > 0) {
    const inv = 1 / Math.sqrt(ss);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}

/** Fill one alpha map `[E, E]` (already normalised) into `out` starting at `offset`. */
export type AlphaWriter = (out: Float32Array, offset: number) => void;

export interface ImageEmbedder {
  /**
   * One Alpha-CLIP pass per alpha map, `batchSize` rows per call, all against the same image.
   * `image` is the preprocessed `[3, E, E]` image (embedderImage). Returns one unit vector per alpha.
   */
  embed(image: Float32Array, alphas: readonly AlphaWriter[]): Promise<Float32Array[]>;
}

export interface ImageEmbedderOptions {
  /** Rows per Alpha-CLIP call (default 8). */
  batchSize?: number;
}

function requireSession(pack: ModelPack, role: "image" | "text" | "clipImage" | "clipText"): [InferenceSession, ModelSpec] {
  const session = pack.sessions[role];
  const spec = pack.manifest.embedder[role];
  if (!session || !spec) throw new Error(`model pack ${pack.id}: the ${role} model is not loaded`);
  return [session, spec];
}

export function createImageEmbedder(pack: ModelPack, options: ImageEmbedderOptions = {}): ImageEmbedder {
  const [session, spec] = requireSession(pack, "image");
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 8));
  const e = pack.manifest.embedder.imageSize, dim = pack.manifest.embedder.embedDim;
  const imgLen = 3 * e * e, alphaLen = e * e;
  const output = spec.outputs[0]!.name;

  return {
    async embed(image, alphas) {
      if (image.length !== imgLen) throw new Error(`embed: image has ${image.length} values, expected 3×${e}×${e}`);
      const vectors: Float32Array[] = [];
      // Full-batch buffers reused across this call's batches (per call, so concurrent calls are safe).
      let full: { image: Float32Array; alpha: Float32Array } | null = null;
      for (let start = 0; start < alphas.length; start += batchSize) {
        const b = Math.min(batchSize, alphas.length - start);
        const buf = b === batchSize
          ? (full ??= { image: new Float32Array(b * imgLen), alpha: new Float32Array(b * alphaLen) })
          : { image: new Float32Array(b * imgLen), alpha: new Float32Array(b * alphaLen) };
        // The image is the same for every row (the region lives in the alpha); copying is ~0.1 ms.
        for (let r = 0; r < b; r++) buf.image.set(image, r * imgLen);
        for (let r = 0; r < b; r++) alphas[start + r]!(buf.alpha, r * alphaLen);
        const out = await runFloat(session, {
          image: new ort.Tensor("float32", buf.image, [b, 3, e, e]),
          alpha: new ort.Tensor("float32", buf.alpha, [b, 1, e, e]),
        }, [output]);
        vectors.push(...splitRows(out[output]!.data, b, dim));
      }
      return vectors;
    },
  };
}

/** `[rows, dim]` → `rows` unit vectors (copies, so the ORT buffer can go). */
function splitRows(data: Float32Array, rows: number, dim: number): Float32Array[] {
  if (data.length !== rows * dim) throw new Error(`embedder returned ${data.length} values, expected ${rows}×${dim}`);
  return Array.from({ length: rows }, (_, r) => l2Normalise(data.slice(r * dim, (r + 1) * dim)));
}

/** Fill one preprocessed image `[3, E, E]` (embedderImage) into `out` starting at `offset`. */
export type ImageWriter = (out: Float32Array, offset: number) => void;

export interface ClipImageEmbedder {
  /** One plain-CLIP pass per image, `batchSize` rows per call. Returns one unit vector per image. */
  embed(images: readonly ImageWriter[]): Promise<Float32Array[]>;
}

/** The pack's plain CLIP image tower (`clipImage`): the detail view's crops, the eval's baselines. */
export function createClipImageEmbedder(pack: ModelPack, options: ImageEmbedderOptions = {}): ClipImageEmbedder {
  const [session, spec] = requireSession(pack, "clipImage");
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 8));
  const e = pack.manifest.embedder.imageSize, dim = pack.manifest.embedder.embedDim;
  const imgLen = 3 * e * e;
  const input = spec.inputs[0]!.name, output = spec.outputs[0]!.name;
  return {
    async embed(images) {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < images.length; start += batchSize) {
        const b = Math.min(batchSize, images.length - start);
        const buf = new Float32Array(b * imgLen);
        for (let r = 0; r < b; r++) images[start + r]!(buf, r * imgLen);
        const out = await runFloat(session, { [input]: new ort.Tensor("float32", buf, [b, 3, e, e]) }, [output]);
        vectors.push(...splitRows(out[output]!.data, b, dim));
      }
      return vectors;
    },
  };
}

export interface TextTower {
  /** Unit vectors, one per text, in one batched call. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** Text tower of the pack (`role` "text" = Alpha-CLIP's; "clipText" = the plain-CLIP baseline). */
export function createTextTower(pack: ModelPack, role: "text" | "clipText" = "text"): TextTower {
  const [session, spec] = requireSession(pack, role);
  const input = spec.inputs.find((t) => t.name === "input_ids")!;
  const dtype = input.dtype === "int32" ? "int32" : "int64";
  const dim = pack.manifest.embedder.embedDim, ctx = pack.tokenizer.contextLength;
  const output = spec.outputs[0]!.name;
  return {
    async embed(texts) {
      if (texts.length === 0) return [];
      const ids = toInputIds(texts.map((t) => pack.tokenizer.encode(t)), dtype);
      const out = await runFloat(session, { input_ids: new ort.Tensor(dtype, ids, [texts.length, ctx]) }, [output]);
      return splitRows(out[output]!.data, texts.length, dim);
    },
  };
}
