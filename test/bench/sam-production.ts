/**
 * Production SAM figures, all from one run (a measurement, not a test):
 *
 *   npm run bench:sam-production -- [--archs vit_b,mobile_sam] [--work /tmp/sam-bench]
 *     [--reference /tmp/ref] [--threads 2] [--reps 3] [--prompts 64] [--provider cpu|cuda] [--out DIR]
 *
 * For each arch, on seeded random weights (no checkpoint is ever downloaded):
 * - builds the pack once under `--work` (`python3 -m export --random-weights`: SAM + CLIP ViT-B/16)
 *   and, with infra/models/bench/sam_amg.py, the straight batched decoder of before this work and
 *   the shipped graph's token path (IoU predictions only);
 * - times the encoder; one batched decoder call of `--prompts` prompts through the shipped graph,
 *   the straight one and the token path (upscaling = shipped − token path), per prompt;
 * - runs two whole extracts on a 768×1024 image: SAM's defaults (random weights: few masks pass,
 *   the best case) and the worst case (both filters off: every mask is scored, boxed and NMS'd;
 *   region embedding capped at 16 regions, which gives its cost per region);
 * - with `--reference` (a folder holding segment-anything's `segment_anything/`, and MobileSAM's
 *   `mobile_sam/` under `mobilesam/`), the official PyTorch `SamAutomaticMaskGenerator` on the same
 *   weights and image, best and worst case, in the same run.
 * Prints one JSON object and writes it to `--out`/sam-production.json when given.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { loadModelPack, type ModelPack } from "../../src/node/models/pack.js";
import { createSegmenter, type ImageEncoding } from "../../src/node/models/segmenter.js";
import {
  cudaFallbackReason,
  createSession,
  ort,
  type ExecutionProvider,
} from "../../src/node/models/session.js";
import { createRegionExtractor } from "../../src/node/pipeline/extractor.js";

const { values: args } = parseArgs({
  options: {
    archs: { type: "string", default: "vit_b,mobile_sam" },
    work: { type: "string", default: "/tmp/sam-bench" },
    reference: { type: "string" },
    threads: { type: "string", default: "2" },
    reps: { type: "string", default: "3" },
    prompts: { type: "string", default: "64" },
    out: { type: "string" },
    /** onnxruntime execution provider, as ORT_EXECUTION_PROVIDER (cuda falls back to the CPU). */
    provider: { type: "string", default: "cpu" },
  },
});

const ROOT = path.resolve(import.meta.dirname, "../..");
const MODELS = path.join(ROOT, "infra/models");
const WORST = { predIouThresh: 0, stabilityScoreThresh: 0 };
const H = 768,
  W = 1024;
const threads = Number(args.threads),
  reps = Number(args.reps);
if (args.provider !== "cpu" && args.provider !== "cuda") throw new Error("--provider: cpu or cuda");
const session = {
  intraOpNumThreads: threads,
  executionProvider: args.provider as ExecutionProvider,
};
const load = () => os.loadavg().map((l) => Number(l.toFixed(1)));

function python(argv: string[]): string {
  const r = spawnSync("/usr/bin/python3", argv, {
    cwd: MODELS,
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0)
    throw new Error(`python3 ${argv.join(" ")} failed:\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

function ensureBuilt(arch: string): { packDir: string; decDir: string } {
  const packDir = path.join(args.work!, `pack-${arch}`),
    decDir = path.join(args.work!, `dec-${arch}`);
  if (!existsSync(path.join(packDir, "manifest.json"))) {
    const bpe = path.join(ROOT, "third_party/clip/bpe_simple_vocab_16e6.txt.gz");
    python([
      "-m",
      "export",
      "--clip-arch",
      "ViT-B/16",
      "--random-weights",
      "--seed",
      "0",
      "--sam-arch",
      arch,
      "--bpe",
      bpe,
      "--out",
      packDir,
    ]);
  }
  if (!existsSync(path.join(decDir, "decoder-tokens.onnx")))
    python(["-m", "bench.sam_amg", "decoders", "--arch", arch, "--seed", "0", "--out", decDir]);
  return { packDir, decDir };
}

/** A deterministic 768×1024 RGB scene: a gradient with a few flat rectangles and a disc. */
function testImage(): { height: number; width: number; data: Uint8Array } {
  const data = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let rgb = [(x * 255) / W, (y * 255) / H, 128];
      if (x > 100 && x < 400 && y > 120 && y < 500) rgb = [200, 40, 40];
      if (x > 520 && x < 900 && y > 300 && y < 700) rgb = [30, 60, 210];
      if ((x - 700) ** 2 + (y - 180) ** 2 < 90 ** 2) rgb = [240, 220, 30];
      data.set(rgb, (y * W + x) * 3);
    }
  }
  return { height: H, width: W, data };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Per-prompt ms of one call of `b` grid prompts through a batched-decoder-contract session. */
async function decoderPerPrompt(
  session: ort.InferenceSession,
  enc: ImageEncoding,
  b: number,
  outputs: string[],
) {
  const side = Math.ceil(Math.sqrt(b));
  const coords = new Float32Array(b * 4),
    labels = new Float32Array(b * 2);
  for (let i = 0; i < b; i++) {
    coords[i * 4] = ((i % side) + 0.5) * (enc.geometry.resizedW / side);
    coords[i * 4 + 1] = (Math.floor(i / side) + 0.5) * (enc.geometry.resizedH / side);
    labels[i * 2] = 1;
    labels[i * 2 + 1] = -1;
  }
  const low = 4 * enc.embeddings.dims[2]!;
  const feeds = {
    image_embeddings: enc.embeddings,
    point_coords: new ort.Tensor("float32", coords, [b, 2, 2]),
    point_labels: new ort.Tensor("float32", labels, [b, 2]),
    mask_input: new ort.Tensor("float32", new Float32Array(b * low * low), [b, 1, low, low]),
    has_mask_input: new ort.Tensor("float32", new Float32Array(b), [b]),
  };
  await session.run(feeds, outputs); // warm-up
  return (await timeIt(() => session.run(feeds, outputs))) / b;
}

async function extract(
  pack: ModelPack,
  png: Buffer,
  amg: Record<string, number> | undefined,
  maxRegions?: number,
) {
  const t = performance.now();
  const out = await createRegionExtractor(pack, { amg, maxRegions }).extract(png);
  const ms = performance.now() - t;
  const tm = out.timings as Record<string, number>;
  const round = (v: number | undefined) => Math.round(v ?? 0);
  const embedMs = (tm["embed"] ?? 0) + (tm["detail"] ?? 0) + (tm["alpha"] ?? 0) + (tm["crop"] ?? 0);
  return {
    amg: amg ?? "SAM defaults",
    loadAverage: load(),
    ms: Math.round(ms),
    regions: out.regions.length,
    segmentationMs: round(
      (tm["preprocess"] ?? 0) +
        (tm["encoder"] ?? 0) +
        (tm["decoder"] ?? 0) +
        (tm["filter"] ?? 0) +
        (tm["upsample"] ?? 0) +
        (tm["postprocess"] ?? 0),
    ),
    embeddingMsPerRegion: out.regions.length ? Math.round(embedMs / out.regions.length) : null,
    timings: Object.fromEntries(Object.entries(tm).map(([k, v]) => [k, Math.round(v)])),
  };
}

function official(arch: string, imageJson: string, amg?: Record<string, number>) {
  if (!args.reference) return "not run (no --reference)";
  const ref = arch === "mobile_sam" ? path.join(args.reference, "mobilesam") : args.reference;
  const argv = [
    "-m",
    "bench.sam_amg",
    "official",
    "--arch",
    arch,
    "--seed",
    "0",
    "--image",
    imageJson,
    "--reference",
    ref,
    "--threads",
    String(threads || os.cpus().length),
  ];
  const before = load();
  const out = JSON.parse(python(amg ? [...argv, "--amg", JSON.stringify(amg)] : argv));
  return { ...out, amg: amg ?? "SAM defaults", loadAverage: before };
}

async function benchArch(
  arch: string,
  image: ReturnType<typeof testImage>,
  png: Buffer,
  imageJson: string,
) {
  const { packDir, decDir } = ensureBuilt(arch);
  const pack = await loadModelPack(packDir, { session });
  const seg = createSegmenter(pack);
  const enc = await seg.encode(image);
  const encoderMs = await timeIt(() => seg.encode(image));
  const b = Number(args.prompts);
  const shipped = pack.sessions.batchedDecoder!;
  const straight = await createSession(path.join(decDir, "decoder-straight.onnx"), {
    intraOpNumThreads: threads,
  });
  const tokens = await createSession(path.join(decDir, "decoder-tokens.onnx"), {
    intraOpNumThreads: threads,
  });
  const both = ["iou_predictions", "low_res_masks"];
  const decoder = {
    prompts: b,
    loadAverage: load(),
    shippedMsPerPrompt: await decoderPerPrompt(shipped, enc, b, both),
    straightMsPerPrompt: await decoderPerPrompt(straight, enc, b, both),
    tokenPathMsPerPrompt: await decoderPerPrompt(tokens, enc, b, ["iou_predictions"]),
  };
  const round1 = (v: number) => Math.round(v * 10) / 10;
  const result = {
    encoderMs: Math.round(encoderMs),
    decoder: {
      ...decoder,
      shippedMsPerPrompt: round1(decoder.shippedMsPerPrompt),
      straightMsPerPrompt: round1(decoder.straightMsPerPrompt),
      tokenPathMsPerPrompt: round1(decoder.tokenPathMsPerPrompt),
      upscalingMsPerPrompt: round1(decoder.shippedMsPerPrompt - decoder.tokenPathMsPerPrompt),
    },
    best: {} as Record<string, unknown>,
    worst: {} as Record<string, unknown>,
  };
  // Each figure goes to stderr as soon as it exists, so a long run shows its progress.
  const note = (what: string, v: unknown) => console.error(`${arch} ${what}: ${JSON.stringify(v)}`);
  note("encoder and decoder", { encoderMs: result.encoderMs, decoder: result.decoder });
  result.best["ours"] = await extract(pack, png, undefined);
  note("best, ours", result.best["ours"]);
  result.worst["ours"] = await extract(pack, png, WORST, 16);
  note("worst, ours", result.worst["ours"]);
  await pack.release();
  result.best["official"] = official(arch, imageJson);
  note("best, official", result.best["official"]);
  result.worst["official"] = official(arch, imageJson, WORST);
  note("worst, official", result.worst["official"]);

  return result;
}

async function main(): Promise<void> {
  await mkdir(args.work!, { recursive: true });
  const image = testImage();
  const imageJson = path.join(args.work!, "image.json");
  await writeFile(path.join(args.work!, "image.rgb"), image.data);
  await writeFile(imageJson, JSON.stringify({ file: "image.rgb", height: H, width: W }));
  const png = await sharp(Buffer.from(image.data), { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}`,
    loadAverageAtStart: load(),
    intraOpThreads: threads,
    reps,
    image: `${W}×${H} synthetic (test/bench/sam-production.ts testImage)`,
    weights: "seeded random (seed 0), SAM + CLIP ViT-B/16 image towers",
  };
  for (const arch of args.archs!.split(",")) {
    result[arch] = await benchArch(arch, image, png, imageJson);
    console.error(`${arch} done`);
  }
  result["provider"] = cudaFallbackReason()
    ? `cpu (cuda fell back: ${cudaFallbackReason()})`
    : args.provider;
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  if (args.out) {
    await mkdir(args.out, { recursive: true });
    await writeFile(path.join(args.out, "sam-production.json"), text + "\n");
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
