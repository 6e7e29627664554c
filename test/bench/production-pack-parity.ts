/**
 * Full-size embedder parity, scripted (too heavy for CI): a pack written by the export command and
 * PyTorch's outputs for the same seed (`export.reference`), compared through onnxruntime-node and
 * the pipeline's own embedder code — the same measurements as test/node/production-pack.test.ts
 * (ViT-B/16 in CI), for any --clip-arch, e.g. ViT-L/14@336px:
 *
 *   A="--clip-arch ViT-L/14@336px --random-weights --seed 7"
 *   nice /usr/bin/python3 infra/models/export $A --bpe third_party/clip/bpe_simple_vocab_16e6.txt.gz \
 *       --segmenter-from models/shapes-tiny --out /tmp/l336
 *   (cd infra/models && nice /usr/bin/python3 -m export.reference $A --out /tmp/l336-ref)
 *   nice npx tsx test/bench/production-pack-parity.ts --pack /tmp/l336 --ref /tmp/l336-ref [--threads 2]
 *
 * Prints one JSON object; exit status 1 when a tower is over `--tol` (default 1e-4) or a
 * preprocessing cosine is under 0.999.
 */
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadModelPack } from "../../src/node/models/pack.js";
import {
  imageTowerParity,
  preprocessingParity,
  readReference,
  textTowerParity,
} from "../node/embedder-parity.js";

const { values: args } = parseArgs({
  options: {
    pack: { type: "string" },
    ref: { type: "string" },
    threads: { type: "string", default: "0" },
    tol: { type: "string", default: "1e-4" },
  },
});

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

async function main(): Promise<void> {
  if (!args.pack || !args.ref) throw new Error("--pack and --ref are required");
  const tol = Number(args.tol);
  const t = performance.now();
  const pack = await loadModelPack(path.resolve(args.pack), {
    roles: ["image", "text"],
    session: { intraOpNumThreads: Number(args.threads) },
  });
  const packLoadMs = Math.round(performance.now() - t);
  const rssAfterLoadMiB = mib(process.memoryUsage().rss);
  const ref = await readReference(path.resolve(args.ref));
  const { embedder } = pack.manifest;
  const image = await imageTowerParity(pack, ref);
  const text = await textTowerParity(pack, ref);
  const prep = await preprocessingParity(pack, ref);
  await pack.release();
  const pass =
    image.maxAbsDiff <= tol &&
    text.maxAbsDiff <= tol &&
    prep.cosines.every((c) => c >= 0.999) &&
    text.tokenizerIdsEqual;
  console.log(
    JSON.stringify(
      {
        machine: `${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length} (shared: load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")})`,
        pack: pack.manifest.description,
        imageSize: embedder.imageSize,
        embedDim: embedder.embedDim,
        fileMiB: {
          image: mib((await stat(path.join(args.pack, embedder.image.file))).size),
          text: mib((await stat(path.join(args.pack, embedder.text.file))).size),
        },
        packLoadMs,
        rssAfterLoadMiB,
        imageTower: { ...image, ms: Math.round(image.ms) },
        textTower: text,
        preprocessing: {
          oneMinusCosine: prep.cosines.map((c) => 1 - c),
          regionVsWhole: prep.regionVsWhole,
        },
        peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
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
