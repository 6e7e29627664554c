/**
 * The exporter's fp16 / int8 rewrites (infra/models/export/onnx_weights.py) run in onnxruntime-node
 * and stay close to the float32 graph: applied to the bundled pack's trained Alpha-CLIP-tiny towers
 * and its trained tiny SAM-contract segmenter (what `--int8` / `--fp16` do to a SAM export), fed the
 * parity fixtures' inputs, compared with the float32 reference outputs: cosine for embeddings, IoU
 * of the thresholded masks and the logits' max abs diff for the decoder.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { maskIouRowMajor } from "../../src/lib/masks/iou.js";
import { thresholdLogits } from "../../src/lib/masks/resize.js";
import { createSession, ort } from "../../src/node/models/session.js";
import { pythonBin } from "../setup/shapes-fixtures.js";
import { PACK_DIR } from "./pack-helpers.js";
import { maxAbsDiff } from "./parity-fixtures.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const FIXTURES = path.join(ROOT, "test/fixtures/parity");
const tmp = mkdtempSync(path.join(tmpdir(), "onnx-variants-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface TensorFile {
  name: string;
  dtype: "float32" | "int64";
  shape: number[];
  file: string;
}

function tensor(dir: string, t: TensorFile): ort.Tensor {
  const b = readFileSync(path.join(dir, t.file));
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return new ort.Tensor(
    t.dtype,
    t.dtype === "float32" ? new Float32Array(buf) : new BigInt64Array(buf),
    t.shape,
  );
}

/** Copy `model` of the bundled pack to tmp and rewrite it as `kind` with the exporter's converter. */
function variant(model: string, kind: "fp16" | "int8"): string {
  const out = path.join(tmp, `${kind}-${model}`);
  const script =
    "import shutil, sys; from export.onnx_weights import convert_file; shutil.copyfile(sys.argv[1], sys.argv[2]); convert_file(sys.argv[2], sys.argv[3])";
  execFileSync(pythonBin(), ["-c", script, path.join(PACK_DIR, model), out, kind], {
    cwd: path.join(ROOT, "infra/models"),
  });
  return out;
}

/** Smallest cosine between corresponding rows of `a` and `b` ([rows, dim]). */
function minRowCosine(a: Float32Array, b: Float32Array, dim: number): number {
  let worst = 1;
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0,
      aa = 0,
      bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += a[i]! * b[i]!;
      aa += a[i]! * a[i]!;
      bb += b[i]! * b[i]!;
    }
    worst = Math.min(worst, ab / Math.sqrt(aa * bb));
  }
  return worst;
}

describe.each([
  ["fp16", 0.9999],
  ["int8", 0.99],
] as const)("%s variant", (kind, bound) => {
  it.each(["embedder-image", "embedder-text"])(
    `%s: loads in onnxruntime-node, float32 inputs/outputs, cosine ≥ ${bound} to float32`,
    async (fixture) => {
      const dir = path.join(FIXTURES, fixture);
      const meta = JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8")) as {
        model: string;
        inputs: TensorFile[];
        outputs: TensorFile[];
      };
      const session = await createSession(readFileSync(variant(meta.model, kind)), {
        intraOpNumThreads: 1,
      });
      try {
        expect([...session.inputNames].sort()).toEqual(meta.inputs.map((t) => t.name).sort());
        const feeds = Object.fromEntries(meta.inputs.map((t) => [t.name, tensor(dir, t)]));
        const want = meta.outputs[0]!;
        const got = (await session.run(feeds))[want.name]!;
        expect(got.type).toBe("float32");
        const ref = tensor(dir, want).data as Float32Array;
        const cos = minRowCosine(got.data as Float32Array, ref, want.shape[1]!);
        console.log(`${kind} ${fixture}: min cosine to float32 ${cos.toFixed(6)}`);
        expect(cos).toBeGreaterThanOrEqual(bound);
        if (kind === "int8") expect(cos).toBeLessThan(1); // the rewrite really changed the arithmetic
      } finally {
        await session.release();
      }
    },
  );
});

/** Run the `kind` rewrite of a fixture's model on the fixture's inputs: (outputs, float32 reference). */
async function runVariant(fixture: string, kind: "fp16" | "int8") {
  const dir = path.join(FIXTURES, fixture);
  const meta = JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8")) as {
    model: string;
    inputs: TensorFile[];
    outputs: TensorFile[];
  };
  const session = await createSession(readFileSync(variant(meta.model, kind)), {
    intraOpNumThreads: 1,
  });
  try {
    const feeds = Object.fromEntries(meta.inputs.map((t) => [t.name, tensor(dir, t)]));
    const out = await session.run(feeds);
    const pairs = meta.outputs.map(
      (t) =>
        [
          t.name,
          {
            got: out[t.name]!.data as Float32Array,
            want: tensor(dir, t).data as Float32Array,
            shape: t.shape,
          },
        ] as const,
    );
    return Object.fromEntries(pairs);
  } finally {
    await session.release();
  }
}

describe.each([
  // bounds: fp16 weights are float32 arithmetic on rounded weights; int8 also quantises activations
  // (measured: fp16 mean 0.997 / min 0.991, int8 mean 0.966 / min 0.864 over 15 masks)
  ["fp16", { cosine: 0.9999, meanIou: 0.99, minIou: 0.98 }],
  ["int8", { cosine: 0.99, meanIou: 0.95, minIou: 0.8 }],
] as const)("%s segmenter (trained tiny SAM-contract model)", (kind, bound) => {
  it(`encoder: image embeddings with cosine ≥ ${bound.cosine} to float32`, async () => {
    const { image_embeddings: e } = await runVariant("segmenter-encoder", kind);
    const cos = minRowCosine(e!.got, e!.want, e!.want.length);
    console.log(
      `${kind} segmenter-encoder: cosine to float32 ${cos.toFixed(6)}, max abs diff ${maxAbsDiff(e!.got, e!.want).toExponential(2)}`,
    );
    expect(cos).toBeGreaterThanOrEqual(bound.cosine);
    if (kind === "int8") expect(cos).toBeLessThan(1);
  });

  it(`batched decoder: thresholded masks' IoU to float32's ≥ ${bound.meanIou} on average, ≥ ${bound.minIou} each; IoU predictions within 0.05`, async () => {
    const { low_res_masks: m, iou_predictions: p } = await runVariant(
      "segmenter-decoder-batched",
      kind,
    );
    const [b, k, h, w] = m!.shape as [number, number, number, number];
    const ious: number[] = [];
    for (let i = 0; i < b * k; i++) {
      const want = thresholdLogits(m!.want.subarray(i * h * w, (i + 1) * h * w), 0);
      if (!want.some((v) => v)) continue; // an empty float32 mask has no IoU to keep
      ious.push(
        maskIouRowMajor(thresholdLogits(m!.got.subarray(i * h * w, (i + 1) * h * w), 0), want),
      );
    }
    const worst = Math.min(...ious),
      mean = ious.reduce((a, x) => a + x, 0) / ious.length,
      masks = ious.length;
    const logits = maxAbsDiff(m!.got, m!.want),
      iou = maxAbsDiff(p!.got, p!.want);
    console.log(
      `${kind} segmenter-decoder-batched: mask IoU mean ${mean.toFixed(4)}, min ${worst.toFixed(4)} over ${masks} masks, logits max abs diff ${logits.toExponential(2)}, iou_predictions ${iou.toExponential(2)}`,
    );
    expect(masks).toBeGreaterThan(0);
    expect(mean).toBeGreaterThanOrEqual(bound.meanIou);
    expect(worst).toBeGreaterThanOrEqual(bound.minIou);
    expect(iou).toBeLessThanOrEqual(0.05);
    if (kind === "int8") expect(logits).toBeGreaterThan(0); // the rewrite really changed the arithmetic
  });
});
