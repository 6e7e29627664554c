/**
 * Production-pack parity (docs/production-packs.md): the export command builds the full-size
 * Alpha-CLIP ViT-B/16 image tower and CLIP text tower with seeded random weights, the real loader
 * takes the pack unchanged, and onnxruntime-node reproduces PyTorch (infra/models/export/reference.py,
 * same seed, same inputs) within 1e-4; the pipeline's TypeScript preprocessing fed the same scene gives
 * embeddings with cosine ≥ 0.999 to the PyTorch/PIL reference preprocessing (export/preprocess.py).
 * The segmenter is borrowed from shapes-tiny (--segmenter-from): this file is about the embedder.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { pythonBin } from "../setup/shapes-fixtures.js";
import {
  clipImageTowerParity,
  imageTowerParity,
  preprocessingParity,
  readReference,
  textTowerParity,
  type Reference,
} from "./embedder-parity.js";
import { PACK_DIR } from "./pack-helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLIP_BPE = path.resolve(ROOT, "third_party/clip/bpe_simple_vocab_16e6.txt.gz");
const SEED = 7;
const run = promisify(execFile);

describe("production pack (ViT-B/16, seeded random weights)", () => {
  let tmp: string;
  let pack: ModelPack;
  let ref: Reference;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "production-pack-"));
    const py = pythonBin();
    const common = ["--clip-arch", "ViT-B/16", "--random-weights", "--seed", String(SEED)];
    // One thread, like the other model tests: vitest runs two files at once on two cores.
    const env = { ...process.env, OMP_NUM_THREADS: "1" };
    await run(
      py,
      [
        "infra/models/export",
        ...common,
        "--bpe",
        CLIP_BPE,
        "--segmenter-from",
        PACK_DIR,
        "--out",
        path.join(tmp, "pack"),
      ],
      { cwd: ROOT, env },
    );
    await run(py, ["-m", "export.reference", ...common, "--out", path.join(tmp, "ref")], {
      cwd: path.join(ROOT, "infra/models"),
      env,
    });
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
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId, tokenizer.contextLength]).toEqual([
      49406, 49407, 0, 77,
    ]);
    expect(embedder.image.inputs.map((t) => t.shape)).toEqual([
      ["B", 3, 224, 224],
      ["B", 1, 224, 224],
    ]);
    // The export writes CLIP's plain image tower and dual-view views by default: ingestion loads it.
    expect(Object.keys(pack.sessions).sort()).toEqual([
      "batchedDecoder",
      "clipImage",
      "decoder",
      "encoder",
      "image",
      "text",
    ]);
    expect(embedder.views).toEqual({
      context: { weight: 0.5 },
      detail: { weight: 0.5, cropMargin: 0.1 },
    });
    expect(pack.vectorDim).toBe(1024);
  });

  it("plain CLIP image tower (the detail view): onnxruntime-node matches PyTorch within 1e-4", async () => {
    const r = await clipImageTowerParity(pack, ref);
    console.log(
      `CLIP image tower max abs diff ${r.maxAbsDiff.toExponential(2)} (|output| max ${r.maxAbs.toFixed(2)})`,
    );
    expect(r.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it("image tower: onnxruntime-node matches PyTorch within 1e-4 and really uses alpha", async () => {
    const r = await imageTowerParity(pack, ref);
    console.log(
      `image tower max abs diff ${r.maxAbsDiff.toExponential(2)} (|output| max ${r.maxAbs.toFixed(2)})`,
    );
    expect(r.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    // Same image, other alpha map: a tower that ignored alpha would give the same vector.
    expect(r.alphaSwapDiff).toBeGreaterThan(0.1);
  });

  it("text tower: onnxruntime-node matches PyTorch within 1e-4, and the tokenizer feeds it CLIP's ids", async () => {
    const r = await textTowerParity(pack, ref);
    console.log(`text tower max abs diff ${r.maxAbsDiff.toExponential(2)}`);
    expect(r.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(r.tokenizerIdsEqual).toBe(true);
    expect(r.pipelineCosine).toBeGreaterThan(0.99999);
  });

  it("the pipeline's TypeScript preprocessing gives embeddings with cosine ≥ 0.999 to PyTorch's reference", async () => {
    const { cosines, regionVsWhole } = await preprocessingParity(pack, ref);
    console.log(
      `TS vs PyTorch preprocessing: 1 − cosine region ${(1 - cosines[0]!).toExponential(2)}, whole image ${(1 - cosines[1]!).toExponential(2)}`,
    );
    expect(cosines).toHaveLength(2);
    for (const c of cosines) expect(c).toBeGreaterThanOrEqual(0.999);
    // The two alphas must lead to different vectors, or the region test above proves nothing.
    expect(regionVsWhole).toBeLessThan(0.999);
  });
});
