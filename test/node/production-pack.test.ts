/**
 * Production-pack parity (docs/production-packs.md): the export command builds the full-size
 * Alpha-CLIP ViT-B/16 image tower and CLIP text tower with seeded random weights, the real loader
 * takes the pack unchanged, and onnxruntime-node reproduces PyTorch (infra/models/export/reference.py,
 * same seed, same inputs) within 1e-4; the pipeline's TypeScript preprocessing fed the same scene gives
 * embeddings with cosine ≥ 0.999 to the PyTorch/PIL reference preprocessing (export/preprocess.py).
 * The segmenter is borrowed from shapes-tiny (--segmenter-from): this file is about the embedder.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlphaRasterizer } from "../../src/node/models/alpha.js";
import { createImageEmbedder, createTextEncoder, l2Normalise } from "../../src/node/models/embedder.js";
import { loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { embedderImage } from "../../src/node/models/preprocess.js";
import { ort, runFloat } from "../../src/node/models/session.js";
import { pythonBin } from "../setup/shapes-fixtures.js";
import { PACK_DIR } from "./pack-helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLIP_BPE = path.resolve(ROOT, "../shared/clip/bpe_simple_vocab_16e6.txt.gz");
const SEED = 7;
const run = promisify(execFile);

interface TensorMeta { dtype: "float32" | "int64" | "uint8"; shape: number[]; file: string }
type Ref = Record<string, { data: Float32Array | BigInt64Array | Uint8Array; shape: number[] }>;

async function readReference(dir: string): Promise<Ref> {
  const meta = JSON.parse(await readFile(path.join(dir, "meta.json"), "utf8")) as { tensors: Record<string, TensorMeta> };
  const out: Ref = {};
  for (const [name, t] of Object.entries(meta.tensors)) {
    const bytes = await readFile(path.join(dir, t.file));
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const data = t.dtype === "float32" ? new Float32Array(buf) : t.dtype === "int64" ? new BigInt64Array(buf) : new Uint8Array(buf);
    out[name] = { data, shape: t.shape };
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function row(data: Float32Array, r: number, dim: number): Float32Array {
  return data.slice(r * dim, (r + 1) * dim);
}

describe("production pack (ViT-B/16, seeded random weights)", () => {
  let tmp: string;
  let pack: ModelPack;
  let ref: Ref;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "production-pack-"));
    const py = pythonBin();
    const common = ["--clip-arch", "ViT-B/16", "--random-weights", "--seed", String(SEED)];
    // One thread, like the other model tests: vitest runs two files at once on two cores.
    const env = { ...process.env, OMP_NUM_THREADS: "1" };
    await run(py, ["infra/models/export", ...common, "--bpe", CLIP_BPE, "--segmenter-from", PACK_DIR, "--out", path.join(tmp, "pack")], { cwd: ROOT, env });
    await run(py, ["-m", "export.reference", ...common, "--out", path.join(tmp, "ref")], { cwd: path.join(ROOT, "infra/models"), env });
    pack = await loadModelPack(path.join(tmp, "pack"), { session: { intraOpNumThreads: 1 } });
    ref = await readReference(path.join(tmp, "ref"));
  }, 900_000);

  afterAll(async () => {
    await pack?.release();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("is accepted by the real loader with CLIP's sizes and tokenizer ids", () => {
    const { embedder, tokenizer } = pack.manifest;
    expect([embedder.imageSize, embedder.embedDim]).toEqual([224, 512]);
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId, tokenizer.contextLength]).toEqual([49406, 49407, 0, 77]);
    expect(embedder.image.inputs.map((t) => t.shape)).toEqual([["B", 3, 224, 224], ["B", 1, 224, 224]]);
    expect(Object.keys(pack.sessions).sort()).toEqual(["batchedDecoder", "decoder", "encoder", "image", "text"]);
  });

  it("image tower: onnxruntime-node matches PyTorch within 1e-4 and really uses alpha", async () => {
    const image = ref["image-tensors"]!, alpha = ref["alpha-tensors"]!;
    const feeds = {
      image: new ort.Tensor("float32", image.data as Float32Array, image.shape),
      alpha: new ort.Tensor("float32", alpha.data as Float32Array, alpha.shape),
    };
    const out = (await runFloat(pack.sessions.image!, feeds, ["embedding"]))["embedding"]!;
    const want = ref["image-embedding"]!.data as Float32Array;
    const diff = maxAbsDiff(out.data, want);
    console.log(`image tower max abs diff ${diff.toExponential(2)} (|output| max ${Math.max(...want.map(Math.abs)).toFixed(2)})`);
    expect(diff).toBeLessThanOrEqual(1e-4);
    // Same image, other alpha map: a tower that ignored alpha would give the same vector.
    const plane = 224 * 224;
    const swapped = (await runFloat(pack.sessions.image!, {
      image: new ort.Tensor("float32", (image.data as Float32Array).slice(0, 3 * plane), [1, 3, 224, 224]),
      alpha: new ort.Tensor("float32", (alpha.data as Float32Array).slice(plane), [1, 1, 224, 224]),
    }, ["embedding"]))["embedding"]!;
    expect(maxAbsDiff(swapped.data, row(want, 0, 512))).toBeGreaterThan(0.1);
  });

  it("text tower: onnxruntime-node matches PyTorch within 1e-4, and the tokenizer feeds it CLIP's ids", async () => {
    const ids = ref["input-ids"]!;
    const out = (await runFloat(pack.sessions.text!, { input_ids: new ort.Tensor("int64", ids.data as BigInt64Array, ids.shape) }, ["embedding"]))["embedding"]!;
    const want = ref["text-embedding"]!.data as Float32Array;
    const diff = maxAbsDiff(out.data, want);
    console.log(`text tower max abs diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(1e-4);
    expect(pack.tokenizer.encode("a photo of a cat")).toEqual(Array.from(ids.data.slice(0, 77), Number));
    const [v] = await createTextEncoder(pack).embed(["A photo of a  cat"]);
    expect(dot(v!, l2Normalise(row(want, 0, 512)))).toBeGreaterThan(0.99999);
  });

  it("the pipeline's TypeScript preprocessing gives embeddings with cosine ≥ 0.999 to PyTorch's reference", async () => {
    const [h, w] = ref["scene-rgb"]!.shape as [number, number];
    const { imageMean, imageStd, alphaMean, alphaStd, imageSize } = pack.manifest.embedder;
    const pixels = embedderImage({ width: w, height: h, data: ref["scene-rgb"]!.data as Uint8Array }, imageSize, imageMean, imageStd);
    const alpha = new AlphaRasterizer(h, w, imageSize, alphaMean, alphaStd);
    const mask = ref["scene-mask"]!.data as Uint8Array;
    const vectors = await createImageEmbedder(pack).embed(pixels.data, [
      (out, offset) => alpha.normalised(mask, null, out, offset),
      (out, offset) => alpha.full(out, offset),
    ]);
    const want = ref["reference-embedding"]!.data as Float32Array;
    const cosines = vectors.map((v, r) => dot(v, l2Normalise(row(want, r, 512))));
    console.log(`TS vs PyTorch preprocessing: 1 − cosine region ${(1 - cosines[0]!).toExponential(2)}, whole image ${(1 - cosines[1]!).toExponential(2)}`);
    for (const c of cosines) expect(c).toBeGreaterThanOrEqual(0.999);
    // The two alphas must lead to different vectors, or the region test above proves nothing.
    expect(dot(vectors[0]!, vectors[1]!)).toBeLessThan(0.999);
  });
});
