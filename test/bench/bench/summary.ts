/** The speed benchmark's Markdown tables and stage chart. */
import type { BenchResult } from "../bench.js";
import { barChartSvg, markdownTable } from "../report.js";
import { scaleTable } from "../store-scale.js";

const MODEL_STAGES = ["encoder", "decoder", "embed"];

/** Share of ingest time that is not model inference. */
export function nonModelShare(stageMs: Record<string, number>): number {
  const total = (stageMs["total"] ?? 0) + (stageMs["storeWrite"] ?? 0) + (stageMs["other"] ?? 0);
  const model = MODEL_STAGES.reduce((s, k) => s + (stageMs[k] ?? 0), 0);
  return total > 0 ? 1 - model / total : Number.NaN;
}

export function benchToMarkdown(r: BenchResult): string {
  const stages = Object.entries(r.ingest.stageMs).filter(([k]) => k !== "total");
  const totalMs = (r.ingest.stageMs["total"] ?? 0) + (r.ingest.stageMs["storeWrite"] ?? 0) + (r.ingest.stageMs["other"] ?? 0);
  return [
    `### Speed: ${r.pack} on ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB (${r.threads} onnxruntime threads)`,
    "",
    `Ingest: **${r.ingest.imagesPerSecond.toFixed(2)} images/s** (${r.ingest.images} shapes images, ${r.ingest.regions} regions, ${(totalMs).toFixed(0)} ms/image); not model inference: ${(nonModelShare(r.ingest.stageMs) * 100).toFixed(1)} % of ingest time.`,
    "",
    markdownTable(["stage", "ms / image", "share"], stages.map(([k, v]) => [k, v, `${((v / totalMs) * 100).toFixed(1)} %`]), 1),
    "",
    `Search with ${r.search.indexedImages} images (${r.search.indexedRegions} regions) indexed, ${r.search.queries} caption queries:`,
    "",
    markdownTable(["", "p50 ms", "p99 ms"], [
      ["HTTP request end to end", r.search.httpMs.p50, r.search.httpMs.p99],
      ["text embedding", r.search.textMs.p50, r.search.textMs.p99],
      ["vector store search", r.search.storeMs.p50, r.search.storeMs.p99],
    ], 1),
    "",
    `Decoding one ${r.decoders.points}-point grid: batched decoder ${r.decoders.batchedMs.toFixed(0)} ms vs one call per point ${r.decoders.singleMs.toFixed(0)} ms (**${r.decoders.ratio.toFixed(1)}×**).`,
    "",
    `Model-FLOP utilisation against the measured MatMul peak of **${r.matmulPeak.gflops.toFixed(1)} GFLOP/s** (onnxruntime, ${r.matmulPeak.bestSize}² float32):`,
    "",
    markdownTable(["model", "batch", "ms / call", "GFLOP / call", "GFLOP/s", "of peak"],
      r.modelSpeeds.map((m) => [m.model, String(m.batch), m.msPerCall, m.gflopPerCall, m.gflops, `${(m.utilisation * 100).toFixed(0)} %`]), 2),
    "",
    "Embedded store (LanceDB) at scale, synthetic clustered 128-d vectors, top-10 with a region filter:",
    "",
    scaleTable(r.scale),
    "",
    `Peak memory (RSS, one process incl. the model worker thread): ${r.servingPeakRssMiB.toFixed(0)} MiB after ingest and search; ${r.peakRssMiB.toFixed(0)} MiB including the synthetic scale runs. Whole run: ${r.seconds.toFixed(0)} s.`,
  ].join("\n");
}

export function stageChart(r: BenchResult): string {
  const stages = Object.entries(r.ingest.stageMs).filter(([k]) => k !== "total");
  const max = Math.max(...stages.map(([, v]) => v));
  const groups = stages.map(([k, v]) => ({ label: k, values: [{ name: "ms / image", value: v }] }));
  return barChartSvg(`Ingest time per image by stage — ${r.pack}`, groups, max, false);
}
