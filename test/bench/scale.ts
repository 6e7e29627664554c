/**
 * `npm run bench:scale [-- --scale 1000000] [--queries 200] [--dim 128] [--out DIR]`: only the
 * embedded store at library scale (approximate vs exact search, recall@10, index build), for sizes
 * too slow to repeat inside the whole `npm run bench`.
 */
import { parseArgs } from "node:util";
import { machineInfo, writeResults } from "./report.js";
import { benchStoreScale, scaleTable, type ScaleResult } from "./store-scale.js";

const { values: args } = parseArgs({
  options: {
    scale: { type: "string", default: "1000000" },
    queries: { type: "string", default: "200" },
    dim: { type: "string", default: "128" },
    out: { type: "string", default: "results/bench-scale" },
  },
});

async function main(): Promise<void> {
  const t0 = performance.now();
  const scale: ScaleResult[] = [];
  for (const n of args.scale.split(",").map(Number)) {
    console.log(`bench:scale: store at ${n} regions…`);
    scale.push(await benchStoreScale(n, Number(args.dim), Number(args.queries)));
  }
  const machine = machineInfo();
  const result = {
    machine,
    dim: Number(args.dim),
    scale,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    seconds: (performance.now() - t0) / 1000,
  };
  const md = [
    `### Embedded store (LanceDB) at scale on ${machine.cpu}, ${machine.cores} cores`,
    "",
    `Synthetic clustered ${result.dim}-d vectors, top-10 with a region filter, ${args.queries} queries:`,
    "",
    scaleTable(scale),
    "",
    `Peak RSS ${result.peakRssMiB.toFixed(0)} MiB; ${result.seconds.toFixed(0)} s in all.`,
  ].join("\n");
  const files = await writeResults(args.out, "bench-scale", result, md);
  console.log(md);
  console.log(`\nwrote ${files.join(", ")}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
