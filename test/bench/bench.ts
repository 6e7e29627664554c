/**
 * `npm run bench [-- --quick] [--images N] [--sequential-images K] [--scale 10000,100000,1000000] [--amg JSON] [--allow-spinning] [--out DIR]`: speed of the
 * embedded default on this machine — ingest time per stage one image at a time (the first K images)
 * and in bulk (the rest, as the CLI sends them), search latency with the
 * library indexed, batched vs single-prompt decoding, the embedded store at 10k/100k/1M regions
 * (approximate vs exact), peak memory, and model-FLOP utilisation against a measured MatMul peak.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { amgOverridesEnvField, type AmgParamsOverrides } from "../../src/lib/amg/params.js";
import { loadModelPack } from "../../src/node/models/pack.js";
import { loadModels } from "../../src/node/server/models.js";
import { writeShapesSplit } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";
import { benchIngestAndSearch } from "./bench/ingest-speed.js";
import { batchedVsSingle, measureModelSpeeds } from "./bench/model-speed.js";
import { benchToMarkdown, stageChart } from "./bench/summary.js";
import { measureMatmulPeak, openMatmulProbe } from "./matmul-peak.js";
import { machineInfo, writeResults } from "./report.js";
import { benchStoreScale, type ScaleResult } from "./store-scale.js";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    images: { type: "string" },
    "sequential-images": { type: "string" },
    scale: { type: "string" },
    pack: { type: "string", default: "models/shapes-tiny" },
    threads: { type: "string", default: "2" },
    out: { type: "string", default: "results/bench" },
    /** AMG overrides over the pack's, as `AMG_OVERRIDES` gives the server, e.g. '{"cropNLayers":0}'. */
    amg: { type: "string" },
    /** onnxruntime's busy-waiting pool threads, as `ORT_ALLOW_SPINNING=true` gives the server. */
    "allow-spinning": { type: "boolean", default: false },
  },
});

async function main(): Promise<void> {
  const threads = Number(args.threads);
  const images = Number(args.images ?? (args.quick ? 30 : 1000));
  const scales = (args.scale ?? (args.quick ? "10000" : "10000,100000,1000000"))
    .split(",")
    .map(Number);
  const log = (s: string) => console.log(s);
  const t0 = performance.now();

  log(`bench: MatMul peak (onnxruntime, ${threads} threads)…`);
  const peak = await measureMatmulPeak(threads);
  const session = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    allowSpinning: args["allow-spinning"],
  };
  const splitDir = path.resolve("test/fixtures/generated", `bench-test-${images}`);
  writeShapesSplit(splitDir, images);
  const scenes = readShapesSplit(splitDir, images);

  log("bench: model speed and FLOP utilisation…");
  const pack = await loadModelPack(args.pack, { session });
  const probe = await openMatmulProbe(threads, peak.bestSize);
  const modelSpeeds = await measureModelSpeeds(pack, probe, 8, pack.amg.pointsPerBatch);
  await probe.release();
  const decoders = await batchedVsSingle(pack, scenes[0]!.png);
  await pack.release();
  // The server as deployed: ingestion's models on their worker thread, text on the main thread.
  const amg = args.amg === undefined ? undefined : amgOverridesEnvField.parse(args.amg);
  const models = await loadModels({
    packDir: args.pack,
    session,
    ...(amg ? { extractor: { amg } } : {}),
  });
  log(`bench: ingest ${images} images through the local server…`);
  const sequential = Number(args["sequential-images"] ?? (args.quick ? 10 : 100));
  const { ingest, search } = await benchIngestAndSearch(models, scenes, 200, sequential, log);
  // Peak while serving (models + store + HTTP), before the synthetic scale runs below inflate it.
  const servingPeakRssMiB = process.resourceUsage().maxRSS / 1024;
  const scale: ScaleResult[] = [];
  for (const n of scales) {
    log(`bench: store at ${n} regions…`);
    scale.push(await benchStoreScale(n, models.pack.vectorDim, 200, log));
  }
  const result = {
    machine: machineInfo(),
    pack: models.pack.id,
    vectorDim: models.pack.vectorDim,
    amgOverrides: amg ?? null,
    threads,
    matmulPeak: peak,
    modelSpeeds,
    decoders,
    ingest,
    search,
    scale,
    servingPeakRssMiB,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    seconds: (performance.now() - t0) / 1000,
  };
  await models.release();
  const files = await writeResults(
    args.out,
    "bench",
    result,
    benchToMarkdown(result),
    stageChart(result),
  );
  console.log(benchToMarkdown(result));
  console.log(`\nwrote ${files.join(", ")}`);
}

export type BenchResult = {
  machine: ReturnType<typeof machineInfo>;
  pack: string;
  vectorDim: number;
  amgOverrides: AmgParamsOverrides | null;
  threads: number;
  matmulPeak: Awaited<ReturnType<typeof measureMatmulPeak>>;
  modelSpeeds: Awaited<ReturnType<typeof measureModelSpeeds>>;
  decoders: Awaited<ReturnType<typeof batchedVsSingle>>;
  ingest: Awaited<ReturnType<typeof benchIngestAndSearch>>["ingest"];
  search: Awaited<ReturnType<typeof benchIngestAndSearch>>["search"];
  scale: ScaleResult[];
  servingPeakRssMiB: number;
  peakRssMiB: number;
  seconds: number;
};

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
