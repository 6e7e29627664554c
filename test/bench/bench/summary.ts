/** The speed benchmark's Markdown tables and stage chart. */
import type { BenchResult } from "../bench.js";
import { barChartSvg, markdownTable } from "../report.js";
import { scaleTable } from "../store-scale.js";
import { isOverlapped, MODEL_STAGES } from "./ingest-speed.js";

/** Stage table of one ingest phase: ms per image and share of the wall time per image (none for overlapped rows). */
function stageTable(stageMs: Record<string, number>, wallMs: number): string {
  const stages = Object.entries(stageMs).filter(([k]) => k !== "total");
  const kind = (k: string): string =>
    (MODEL_STAGES as readonly string[]).includes(k)
      ? "model"
      : isOverlapped(k)
        ? "ours, alongside the models"
        : "ours";
  const share = (k: string, v: number): string =>
    isOverlapped(k) ? "—" : `${((v / wallMs) * 100).toFixed(1)} %`;
  return markdownTable(
    ["stage", "kind", "ms / image", "of wall time"],
    stages.map(([k, v]) => [k, kind(k), v, share(k, v)]),
    1,
  );
}

export function benchToMarkdown(r: BenchResult): string {
  const { sequential: seq, bulk } = r.ingest;
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  return [
    `### Speed: ${r.pack}${r.amgOverrides ? ` with AMG overrides ${JSON.stringify(r.amgOverrides)}` : ""} on ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB (${r.threads} onnxruntime threads)`,
    "",
    `Bulk ingest (${bulk.clientConcurrency} uploads in flight as \`region-search ingest\` sends them, queue concurrency ${bulk.queueConcurrency}): ` +
      `**${bulk.imagesPerSecond.toFixed(2)} images/s** (${bulk.images} shapes images, ${bulk.wallMsPerImage.toFixed(0)} ms of wall time per image); ` +
      `not model inference: **${pct(bulk.nonModelShare)}** of ingest time.`,
    "",
    stageTable(bulk.stageMs, bulk.wallMsPerImage),
    "",
    `One image at a time (${seq.images} images, \`?wait=true\`, one upload in flight): latency p50 ${seq.latencyMs.p50.toFixed(0)} ms, p99 ${seq.latencyMs.p99.toFixed(0)} ms; ` +
      `not model inference: ${pct(seq.nonModelShare)}. \`verify\` = the upload's full decode check, \`catalog\` / \`blobs\` = record and image-byte reads and fsynced writes (their time while the image's extraction ran, started at upload time, is in the "(overlapped)" rows), \`other\` = the rest (HTTP, hashing, queue, worker hand-off).`,
    "",
    stageTable(seq.stageMs, seq.wallMsPerImage),
    "",
    `${r.ingest.regions} regions indexed in all.`,
    "",
    `Search with ${r.search.indexedImages} images (${r.search.indexedRegions} regions) indexed, ${r.search.queries} caption queries:`,
    "",
    markdownTable(
      ["", "p50 ms", "p99 ms"],
      [
        ["HTTP request end to end", r.search.httpMs.p50, r.search.httpMs.p99],
        ["text embedding", r.search.textMs.p50, r.search.textMs.p99],
        ["vector store search", r.search.storeMs.p50, r.search.storeMs.p99],
      ],
      1,
    ),
    "",
    `Decoding one ${r.decoders.points}-point grid: batched decoder ${r.decoders.batchedMs.toFixed(0)} ms vs one call per point ${r.decoders.singleMs.toFixed(0)} ms (**${r.decoders.ratio.toFixed(1)}×**).`,
    "",
    `Model-FLOP utilisation against the onnxruntime MatMul peak (${r.matmulPeak.bestSize}² float32, the best size; **${r.matmulPeak.gflops.toFixed(1)} GFLOP/s** at the start of the run), re-measured right before and after each model, the higher of the two being that model's denominator:`,
    "",
    markdownTable(
      ["model", "batch", "ms / call", "GFLOP / call", "GFLOP/s", "peak next to it", "of peak"],
      r.modelSpeeds.map((m) => [
        m.model,
        String(m.batch),
        m.msPerCall,
        m.gflopPerCall,
        m.gflops,
        m.peakGflops,
        `${(m.utilisation * 100).toFixed(0)} %`,
      ]),
      2,
    ),
    "",
    `Embedded store (LanceDB) at scale, synthetic clustered ${r.vectorDim}-d vectors (the pack's stored length), top-10 with a region filter:`,
    "",
    scaleTable(r.scale),
    "",
    `Peak memory (RSS, one process incl. the model worker thread): ${r.servingPeakRssMiB.toFixed(0)} MiB after ingest and search; ${r.peakRssMiB.toFixed(0)} MiB including the synthetic scale runs. Whole run: ${r.seconds.toFixed(0)} s.`,
  ].join("\n");
}

export function stageChart(r: BenchResult): string {
  const stages = Object.entries(r.ingest.bulk.stageMs).filter(([k]) => k !== "total");
  const max = Math.max(...stages.map(([, v]) => v));
  const groups = stages.map(([k, v]) => ({ label: k, values: [{ name: "ms / image", value: v }] }));
  return barChartSvg(`Bulk ingest: ms per image by stage — ${r.pack}`, groups, max, false);
}
