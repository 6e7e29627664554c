/**
 * Time to load a model pack (manifest, sha256 of every file, tokenizer, sessions) — a measurement,
 * not a test. Prints one JSON object with the median and the minimum of `--runs` loads:
 *
 *   npx tsx test/bench/pack-load.ts [--dir models/shapes-tiny] [--runs 7]
 */
import { parseArgs } from "node:util";
import { loadModelPack } from "../../src/node/models/pack.js";

const { values } = parseArgs({
  options: {
    dir: { type: "string", default: "models/shapes-tiny" },
    runs: { type: "string", default: "7" },
  },
});
const runs = Number(values.runs);
const ms: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const pack = await loadModelPack(values.dir, { session: { intraOpNumThreads: 1 } });
  ms.push(performance.now() - t0);
  await pack.release();
}
ms.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    dir: values.dir,
    runs,
    medianMs: +ms[Math.floor(runs / 2)]!.toFixed(1),
    minMs: +ms[0]!.toFixed(1),
  }),
);
