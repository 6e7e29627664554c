/**
 * Speed and drift of fp16 / int8 SAM segmenters against the fp32 one (a measurement, not a test):
 * the same weights exported at each precision by `export.sam_parity --precision P` (same seed), run
 * through the pipeline's segmenter on the same image and the same grid of single-point prompts.
 *
 *   M=infra/models; A="--arch vit_b --random-weights --seed 0"
 *   for p in fp32 fp16 int8; do (cd $M && nice /usr/bin/python3 -m export.sam_parity $A --precision $p --out /tmp/sam-b-$p); done
 *   nice npx tsx test/bench/sam-variants.ts --dir /tmp/sam-b-fp32 --variant /tmp/sam-b-fp16 --variant /tmp/sam-b-int8 [--prompts 64] [--threads 2]
 *
 * Per variant: encoder and batched-decoder times, and against fp32 — embeddings (cosine, max abs
 * diff), low-res mask logits (max abs diff) and masks thresholded at the manifest's maskThreshold
 * (IoU per prompt × mask output: mean, min, share ≥ 0.9), iou_predictions (max abs diff); once end to
 * end (the variant's own embeddings) and once for the decoder alone (fp32 embeddings fed to it).
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { maskIouRowMajor } from "../../src/lib/masks/iou.js";
import { thresholdLogits } from "../../src/lib/masks/resize.js";
import type { ModelPack } from "../../src/node/models/pack.js";
import {
  createSegmenter,
  type DecodedBatch,
  type ImageEncoding,
} from "../../src/node/models/segmenter.js";
import { maxAbsDiff } from "../node/parity-fixtures.js";
import { cosine, loadSamParityDir } from "../node/sam-parity.js";

const { values: args } = parseArgs({
  options: {
    dir: { type: "string" },
    variant: { type: "string", multiple: true, default: [] },
    prompts: { type: "string", default: "64" },
    threads: { type: "string", default: "0" },
  },
});

interface Run {
  dir: string;
  pack: ModelPack;
  encoding: ImageEncoding;
  decoded: DecodedBatch;
  encoderMs: number;
  decoderMs: number;
}

/** A centred side × side grid of points over the resized image (`b` of them). */
function promptGrid(encoding: ImageEncoding, b: number): Float32Array {
  const side = Math.ceil(Math.sqrt(b));
  const points = new Float32Array(2 * b);
  for (let i = 0; i < b; i++) {
    points[2 * i] = ((i % side) + 0.5) * (encoding.geometry.resizedW / side);
    points[2 * i + 1] = (Math.floor(i / side) + 0.5) * (encoding.geometry.resizedH / side);
  }
  return points;
}

async function runPack(dir: string, b: number): Promise<Run> {
  const { pack, image } = await loadSamParityDir(dir, "sam-variant", {
    roles: ["encoder", "batchedDecoder"],
    session: { intraOpNumThreads: Number(args.threads) },
  });
  const seg = createSegmenter(pack);
  let t = performance.now();
  const encoding = await seg.encode(image);
  const encoderMs = performance.now() - t;
  t = performance.now();
  const decoded = await seg.decode(encoding, promptGrid(encoding, b));
  return { dir, pack, encoding, decoded, encoderMs, decoderMs: performance.now() - t };
}

/** Drift of `got` against `want`: logits, thresholded masks (IoU per prompt × output), IoU predictions. */
function maskDrift(want: DecodedBatch, got: DecodedBatch, threshold: number) {
  const n = want.lowH * want.lowW;
  const ious: number[] = [];
  let bothEmpty = 0;
  for (let m = 0; m < want.batchSize * want.masksPerPrompt; m++) {
    const a = thresholdLogits(want.lowResLogits.subarray(m * n, (m + 1) * n), threshold);
    const b = thresholdLogits(got.lowResLogits.subarray(m * n, (m + 1) * n), threshold);
    if (!a.some((v) => v) && !b.some((v) => v)) bothEmpty++;
    else ious.push(maskIouRowMajor(a, b));
  }
  const round = (x: number) => Number(x.toFixed(4));
  return {
    logitsMaxAbsDiff: maxAbsDiff(got.lowResLogits, want.lowResLogits),
    iouPredMaxAbsDiff: maxAbsDiff(got.iouPredictions, want.iouPredictions),
    maskIou: {
      mean: round(ious.reduce((s, x) => s + x, 0) / Math.max(1, ious.length)),
      min: round(Math.min(...ious)),
      atLeast09: round(ious.filter((x) => x >= 0.9).length / Math.max(1, ious.length)),
      masks: ious.length,
      bothEmpty,
    },
  };
}

async function main(): Promise<void> {
  if (!args.dir) throw new Error("--dir (the fp32 export) is required");
  const b = Number(args.prompts);
  const base = await runPack(args.dir, b);
  const threshold = base.pack.manifest.segmenter.maskThreshold;
  let logitScale = 0;
  for (const v of base.decoded.lowResLogits) logitScale = Math.max(logitScale, Math.abs(v));
  const report: Record<string, unknown>[] = [
    {
      dir: base.dir,
      encoderMs: Math.round(base.encoderMs),
      batchedDecoderMs: Math.round(base.decoderMs),
      maxAbsLogit: logitScale,
    },
  ];
  await base.pack.release();
  for (const dir of args.variant) {
    const v = await runPack(dir, b);
    const baseEmb = base.encoding.embeddings.data as Float32Array,
      emb = v.encoding.embeddings.data as Float32Array;
    const decoderOnly = await createSegmenter(v.pack).decode(
      base.encoding,
      promptGrid(base.encoding, b),
    );
    report.push({
      dir,
      encoderMs: Math.round(v.encoderMs),
      batchedDecoderMs: Math.round(v.decoderMs),
      embeddings: { cosine: cosine(emb, baseEmb), maxAbsDiff: maxAbsDiff(emb, baseEmb) },
      endToEnd: maskDrift(base.decoded, v.decoded, threshold),
      decoderOnly: maskDrift(base.decoded, decoderOnly, threshold),
    });
    await v.pack.release();
  }
  console.log(
    JSON.stringify(
      {
        machine: `${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length} (shared: load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")})`,
        prompts: b,
        threads: Number(args.threads),
        runs: report,
      },
      null,
      2,
    ),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
