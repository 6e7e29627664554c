/**
 * Packs whose model keeps its weights in an ONNX external-data file (the layout of models over
 * 2 GiB, e.g. SAM ViT-H's fp32 encoder): the bundled pack's encoder rewritten by
 * infra/models/external_data.py with every initializer in `segmenter-encoder.onnx.data`. It must
 * load, run and give the single-file encoder's numbers; a bad, missing or escaping external file
 * must be refused at load time, naming the file.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { ort } from "../../src/node/models/session.js";
import { PACK_DIR, packCopy } from "./pack-helpers.js";

const MODELS = path.resolve(import.meta.dirname, "../../infra/models");
const MODEL = "segmenter-encoder.onnx";
const DATA = `${MODEL}.data`;

type Copy = Awaited<ReturnType<typeof packCopy>>;
type Spec = { file: string; externalData?: string[] };
let generated = "";
let copy: Copy | null = null;
const packs: ModelPack[] = [];

beforeAll(async () => {
  generated = await mkdtemp(path.join(tmpdir(), "extdata-"));
  await promisify(execFile)(
    "/usr/bin/python3",
    ["external_data.py", path.join(PACK_DIR, MODEL), path.join(generated, MODEL)],
    {
      cwd: MODELS,
      timeout: 120_000,
    },
  );
}, 150_000);

afterEach(async () => {
  await Promise.all(packs.splice(0).map((p) => p.release()));
  await copy?.cleanup();
  copy = null;
});

afterAll(() => rm(generated, { recursive: true, force: true }));

/** A sealed copy of the bundled pack whose encoder is the external-data one (`declare`: its manifest entry names it). */
async function externalDataPack(declare = true): Promise<Copy & { encoder: Spec }> {
  const c = await packCopy();
  copy = c;
  await c.removeFile(MODEL);
  for (const f of [MODEL, DATA]) await symlink(path.join(generated, f), path.join(c.dir, f));
  const encoder = (c.manifest["segmenter"] as { encoder: Spec }).encoder;
  if (declare) encoder.externalData = [DATA];
  c.manifest.files.push({ path: DATA, bytes: 0, sha256: "" });
  await c.reseal();
  return Object.assign(c, { encoder });
}

async function encode(dir: string, input: Float32Array): Promise<Float32Array> {
  const pack = await loadModelPack(dir, { roles: ["encoder"], session: { intraOpNumThreads: 1 } });
  packs.push(pack);
  const out = await pack.sessions.encoder!.run({
    image: new ort.Tensor("float32", input, [1, 3, 256, 256]),
  });
  return out["image_embeddings"]!.data as Float32Array;
}

describe("model packs with ONNX external data", () => {
  it("the generated model really keeps its weights outside the .onnx", async () => {
    const [graph, data] = await Promise.all([
      stat(path.join(generated, MODEL)),
      stat(path.join(generated, DATA)),
    ]);
    expect(data.size).toBeGreaterThan(50 * graph.size);
  });

  it("loads and runs the encoder from its path, with the single-file encoder's numbers", async () => {
    const c = await externalDataPack();
    const input = Float32Array.from({ length: 3 * 256 * 256 }, (_, i) => Math.sin(i * 0.37) * 2);
    const [got, want] = [await encode(c.dir, input), await encode(PACK_DIR, input)];
    expect(got.length).toBe(64 * 32 * 32);
    let diff = 0,
      norm = 0;
    for (let i = 0; i < got.length; i++) {
      diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
      norm = Math.max(norm, Math.abs(want[i]!));
    }
    expect(norm).toBeGreaterThan(0.1);
    expect(diff).toBeLessThanOrEqual(1e-6);
  });

  it("still checks the session against the manifest", async () => {
    const c = await externalDataPack();
    (
      c.manifest["segmenter"] as { encoder: { outputs: { shape: unknown[] }[] } }
    ).encoder.outputs[0]!.shape = [1, 64, 16, 16];
    await c.write();
    await expect(loadModelPack(c.dir)).rejects.toThrow(
      /segmenter-encoder\.onnx: output "image_embeddings" dim 2 is 32, manifest says 16/,
    );
  });

  it("refuses an external-data file whose sha256 does not match", async () => {
    const c = await externalDataPack();
    c.manifest.files.find((f) => f.path === DATA)!.sha256 = "0".repeat(64);
    await c.write();
    await expect(loadModelPack(c.dir)).rejects.toThrow(
      /segmenter-encoder\.onnx\.data: sha256 [0-9a-f]{64}, manifest says 0{64}/,
    );
  });

  it("refuses a missing external-data file before creating any session", async () => {
    const c = await externalDataPack();
    await c.removeFile(DATA);
    await expect(loadModelPack(c.dir)).rejects.toThrow(
      /^model pack .*: segmenter-encoder\.onnx\.data: listed in the manifest but cannot be read \(ENOENT\)$/,
    );
  });

  it("refuses external-data names that leave the pack folder, are not listed, or sit apart from the model", async () => {
    const c = await externalDataPack();
    c.encoder.externalData = ["../x"];
    await c.write();
    await expect(loadModelPack(c.dir)).rejects.toThrow(
      /invalid manifest: segmenter\.encoder\.externalData\.0: "\.\.\/x" must be a path inside the pack folder/,
    );
    c.encoder.externalData = ["weights.data"];
    await c.write();
    await expect(loadModelPack(c.dir)).rejects.toThrow(
      /files: "weights\.data" \(external data of segmenter-encoder\.onnx\) is not listed/,
    );
    c.encoder.externalData = ["sub/segmenter-encoder.onnx.data"];
    c.manifest.files.push({
      path: "sub/segmenter-encoder.onnx.data",
      bytes: 1,
      sha256: "0".repeat(64),
    });
    await c.write();
    await expect(loadModelPack(c.dir)).rejects.toThrow(
      /segmenter-encoder\.onnx: external data "sub\/segmenter-encoder\.onnx\.data" must be in the model file's folder/,
    );
  });

  it("refuses an external-data model the manifest does not declare as one, saying what to add", async () => {
    const c = await externalDataPack(false);
    await expect(loadModelPack(c.dir)).rejects.toThrow(
      /segmenter-encoder\.onnx: onnxruntime cannot load it: .*\(list its weights file in the model's externalData\)/,
    );
  });
});
