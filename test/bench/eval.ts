/**
 * `npm run eval [-- --quick] [--scenes N] [--split test|validation] [--robust] [--amg JSON] [--skip-baselines] [--out DIR]`:
 * quality of the full TypeScript pipeline on a shapes-world split (test by default; tune on
 * `validation`, never on test) — regions from automatic mask generation, not ground truth.
 * `--robust`: the robustness subset (the same seeds with objects turned and partly hidden).
 * Segmentation recall, within-image referring top-1 (attribute captions and context expressions)
 * and library retrieval for the stored dual-view vector and each view alone, broken down by object
 * size and pattern, and the paper's alpha-vs-crop/mask/red-circle/whole-image comparison.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { amgOverridesEnvField } from "../../src/lib/amg/params.js";
import { createTextTower } from "../../src/node/models/embedder.js";
import { loadModelPack } from "../../src/node/models/pack.js";
import { createRegionExtractor, createTextEmbedder } from "../../src/node/pipeline/extractor.js";
import { writeShapesSplit } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";
import { evaluateLibrary } from "./eval/library.js";
import { libraryByMethod } from "./eval/library-methods.js";
import { summarise, toMarkdown, toChart } from "./eval/summary.js";
import { evaluateScene, type SceneOutcome } from "./eval/scene-eval.js";
import { machineInfo, writeResults } from "./report.js";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    scenes: { type: "string" },
    split: { type: "string", default: "test" },
    pack: { type: "string", default: "models/shapes-tiny" },
    out: { type: "string", default: "results/eval" },
    threads: { type: "string", default: "2" },
    /** AMG overrides as JSON over the pack's (for tuning on validation), e.g. '{"maskNmsThresh":0.5}'. */
    amg: { type: "string" },
    /** Skip the plain-CLIP baselines (alpha only; about half the time per scene). */
    "skip-baselines": { type: "boolean", default: false },
    robust: { type: "boolean", default: false },
  },
});

async function main(): Promise<void> {
  const count = Number(args.scenes ?? (args.quick ? 30 : 500));
  const split = args.split;
  if (split !== "test" && split !== "validation")
    throw new Error(`--split: expected test or validation, got ${split}`);
  const robust = args.robust;
  const splitDir = path.resolve(
    "test/fixtures/generated",
    `eval-${split}${robust ? "-robust" : ""}-${count}`,
  );
  const t0 = performance.now();
  writeShapesSplit(splitDir, count, split, { robust });
  const scenes = readShapesSplit(splitDir, count);
  const pack = await loadModelPack(args.pack, {
    session: { intraOpNumThreads: Number(args.threads), interOpNumThreads: 1 },
    roles: ["encoder", "decoder", "batchedDecoder", "image", "text", "clipImage"],
  });
  const deps = {
    pack,
    extractor: createRegionExtractor(
      pack,
      args.amg ? { amg: amgOverridesEnvField.parse(args.amg) ?? {} } : {},
    ),
    text: createTextTower(pack),
    baselines: Boolean(pack.manifest.embedder.clipImage) && !args["skip-baselines"],
  };
  console.log(`eval: ${scenes.length} scenes of the ${split} split, pack ${pack.id}`);

  const outcomes: SceneOutcome[] = [];
  for (const [i, scene] of scenes.entries()) {
    outcomes.push(await evaluateScene(scene, deps));
    if ((i + 1) % 10 === 0 || i + 1 === scenes.length) {
      const s = (performance.now() - t0) / 1000;
      console.log(
        `  ${i + 1}/${scenes.length} scenes, ${s.toFixed(0)} s, ETA ${((s / (i + 1)) * (scenes.length - i - 1)).toFixed(0)} s`,
      );
    }
  }
  const library = await evaluateLibrary(scenes, outcomes, createTextEmbedder(pack), pack.id);
  const methods = await libraryByMethod(scenes, outcomes, deps.text, pack.manifest.embedder.views);
  const summary = summarise(outcomes, library, methods, {
    pack: pack.id,
    split,
    robust,
    scenes: scenes.length,
    seeds: `${scenes[0]?.seed}..${scenes.at(-1)?.seed}`,
    quick: args.quick,
    machine: machineInfo(),
    seconds: (performance.now() - t0) / 1000,
  });
  const files = await writeResults(
    args.out,
    robust ? "eval-robust" : "eval",
    summary,
    toMarkdown(summary),
    toChart(summary),
  );
  console.log(toMarkdown(summary));
  console.log(`\nwrote ${files.join(", ")}`);
  await pack.release();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
