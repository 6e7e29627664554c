/**
 * Speed of an exported SAM segmenter on this machine (a measurement, not a test):
 *
 *   (cd infra/models && /usr/bin/python3 -m export.sam_parity --arch vit_b --random-weights --out /tmp/sam-b)
 *   npx tsx test/bench/production-sam.ts --dir /tmp/sam-b [--prompts 64] [--extract] [--amg '{"pointsPerSide":4}']
 *
 * `--dir` is what export.sam_parity wrote (ONNX files, segmenter.json, image.rgb); a pack is built
 * around it with the bundled embedder. Prints one JSON object: ONNX file sizes, one encoder call
 * (preprocessing included), one batched decoder call of `--prompts` single-point prompts, and with
 * `--extract` one whole `extract` (AMG with the pack's SAM defaults, or `--amg` overrides, + region
 * embeddings). Random weights pass few of SAM's default filters: lower them to exercise every stage.
 */
import { readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import type { AmgParamsOverrides } from "../../src/lib/amg/params.js";
import { loadModelPack } from "../../src/node/models/pack.js";
import { createSegmenter } from "../../src/node/models/segmenter.js";
import { createRegionExtractor } from "../../src/node/pipeline/extractor.js";
import { packWithSegmenter } from "../node/pack-helpers.js";

const { values: args } = parseArgs({
  options: {
    dir: { type: "string" },
    prompts: { type: "string", default: "64" },
    threads: { type: "string", default: "0" },
    extract: { type: "boolean", default: false },
    amg: { type: "string" },
  },
});

async function main(): Promise<void> {
  if (!args.dir) throw new Error("--dir is required (the output folder of export.sam_parity)");
  const dir = path.resolve(args.dir);
  const section = JSON.parse(await readFile(path.join(dir, "segmenter.json"), "utf8"));
  await packWithSegmenter(dir, section, "sam-bench");
  const threads = Number(args.threads);
  const roles = args.extract ? undefined : (["encoder", "batchedDecoder"] as const);
  let t = performance.now();
  const pack = await loadModelPack(dir, { roles, session: { intraOpNumThreads: threads } });
  const loadMs = performance.now() - t;
  const sizes: Record<string, number> = {};
  for (const k of ["encoder", "decoder", "batchedDecoder"])
    sizes[section[k].file] = (await stat(path.join(dir, section[k].file))).size;

  const meta = JSON.parse(await readFile(path.join(dir, "image.json"), "utf8"));
  const image = {
    height: meta.height,
    width: meta.width,
    data: new Uint8Array(await readFile(path.join(dir, meta.file))),
  };
  const seg = createSegmenter(pack);
  t = performance.now();
  const encoding = await seg.encode(image);
  const encoderMs = performance.now() - t;

  const b = Number(args.prompts);
  const side = Math.ceil(Math.sqrt(b));
  const points = new Float32Array(2 * b);
  for (let i = 0; i < b; i++) {
    points[2 * i] = ((i % side) + 0.5) * (encoding.geometry.resizedW / side);
    points[2 * i + 1] = (Math.floor(i / side) + 0.5) * (encoding.geometry.resizedH / side);
  }
  t = performance.now();
  await seg.decode(encoding, points);
  const decoderMs = performance.now() - t;

  const result: Record<string, unknown> = {
    machine: `${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length} (shared: load average ${os.loadavg()[0]!.toFixed(1)})`,
    intraOpThreads: threads,
    fileBytes: sizes,
    packLoadMs: Math.round(loadMs),
    encoderMs: Math.round(encoderMs),
    batchedDecoderMs: Math.round(decoderMs),
    prompts: b,
  };
  if (args.extract) {
    const png = await sharp(Buffer.from(image.data), {
      raw: { width: image.width, height: image.height, channels: 3 },
    })
      .png()
      .toBuffer();
    t = performance.now();
    const amg = args.amg ? (JSON.parse(args.amg) as AmgParamsOverrides) : undefined;
    const out = await createRegionExtractor(pack, { amg }).extract(png);
    result["extract"] = {
      amg: amg ?? "pack defaults",
      ms: Math.round(performance.now() - t),
      regions: out.regions.length,
      timings: out.timings,
    };
  }
  await pack.release();
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
