/**
 * Full-size SAM parity, scripted (too heavy for CI): a folder written by `export.sam_parity` (any arch,
 * e.g. ViT-H with its > 2 GiB encoder in external data) is loaded by the project's pack loader and
 * run through onnxruntime-node — the pipeline's preprocessing + encoder on the test image, the
 * official decoder, the batched decoder — and compared with PyTorch's outputs on the same inputs.
 *
 *   (cd infra/models && nice /usr/bin/time -v /usr/bin/python3 -m export.sam_parity --arch vit_h --random-weights --out /tmp/sam-h)
 *   nice npx tsx test/bench/production-sam-parity.ts --dir /tmp/sam-h [--threads 2]
 *
 * Prints one JSON object: file sizes, load time, max |ORT − PyTorch| and cosine per output, the times
 * of one encode and one batched call, and the process's peak resident memory. Exit status 1 when a
 * max abs diff is over `--tol` (default 1e-4) or the embeddings' cosine is under 0.999.
 */
import { readdir, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  batchedParity,
  decoderParity,
  encoderParity,
  loadSamParityDir,
} from "../node/sam-parity.js";

const { values: args } = parseArgs({
  options: {
    dir: { type: "string" },
    threads: { type: "string", default: "0" },
    tol: { type: "string", default: "1e-4" },
  },
});

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const peakRssMiB = () => mib(process.resourceUsage().maxRSS * 1024);

async function onnxSizes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const f of (await readdir(dir)).filter((n) => n.startsWith("segmenter-")).sort())
    out[f] = mib((await stat(path.join(dir, f))).size);
  return out;
}

async function main(): Promise<void> {
  if (!args.dir) throw new Error("--dir is required (the output folder of export.sam_parity)");
  const dir = path.resolve(args.dir);
  const tol = Number(args.tol);
  const t = performance.now();
  const { pack, image } = await loadSamParityDir(dir, "sam-parity", {
    session: { intraOpNumThreads: Number(args.threads) },
  });
  const loadMs = Math.round(performance.now() - t);
  const rssAfterLoadMiB = mib(process.memoryUsage().rss);
  const encoder = await encoderParity(pack, dir, image);
  const decoder = await decoderParity(pack, dir);
  const batched = await batchedParity(pack, dir);
  await pack.release();
  const diffs = [
    encoder.maxAbsDiff,
    ...Object.values(decoder.diffs),
    ...Object.values(batched.diffs),
    batched.promptVsSingle,
  ];
  const pass = diffs.every((d) => d <= tol) && encoder.cosine >= 0.999;
  console.log(
    JSON.stringify(
      {
        machine: `${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length} (shared: load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")})`,
        dir,
        fileMiB: await onnxSizes(dir),
        externalData: pack.manifest.segmenter.encoder.externalData ?? [],
        packLoadMs: loadMs,
        rssAfterLoadMiB,
        encoder: { ...encoder, ms: Math.round(encoder.ms) },
        decoder: decoder.diffs,
        batchedDecoder: {
          ...batched.diffs,
          promptVsSingle: batched.promptVsSingle,
          prompts: batched.prompts,
          ms: Math.round(batched.ms),
        },
        peakRssMiB: peakRssMiB(),
        tol,
        pass,
      },
      null,
      2,
    ),
  );
  if (!pass) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
