/**
 * `npm run tune:views [-- --scenes N] [--split validation]`: chooses the dual-view weight `w` and the
 * detail crop's margin on the VALIDATION split (never on test). For every scene the pipeline's AMG
 * regions get their Alpha-CLIP (context) vector once and a plain-CLIP crop vector per candidate
 * margin; every (margin, w) pair is then scored without re-running the models, since the dual score
 * is `(1−w)·a·t + w·c·t` (src/node/models/views.ts). Prints the grid and the choice: the pair with
 * the best library recall@1 + mAP@100 + within-image attribute top-1 whose context-expression top-1
 * is at most 1 point below alpha-only (a query holding a relation word ranks on the context view, as
 * the search path does with the pack's `relationWords`). Writes `results/tune-views/tune-views.{json,md}`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { decodeImage } from "../../src/node/imaging/index.js";
import { createClipImageEmbedder, createTextTower } from "../../src/node/models/embedder.js";
import { loadModelPack } from "../../src/node/models/pack.js";
import { detailViewInput, splitView } from "../../src/node/models/views.js";
import { createRegionExtractor } from "../../src/node/pipeline/extractor.js";
import { writeShapesSplit } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";
import { markdownTable, writeResults } from "./report.js";
import { libraryMetrics, referringTop1, type ScoredScene } from "./eval/views-metrics.js";

const { values: args } = parseArgs({
  options: {
    scenes: { type: "string", default: "300" },
    split: { type: "string", default: "validation" },
    pack: { type: "string", default: "models/shapes-tiny" },
    margins: { type: "string", default: "0,0.05,0.1,0.2,0.3" },
    /** Words that route a query to the context view (manifest views.context.relationWords). */
    "relation-words": {
      type: "string",
      default: "left,right,above,below,top,bottom,larger,smaller",
    },
    out: { type: "string", default: "results/tune-views" },
  },
});

const WEIGHTS = Array.from({ length: 21 }, (_, i) => i / 20);

async function main(): Promise<void> {
  const count = Number(args.scenes),
    split = args.split;
  if (split === "test") throw new Error("tune on validation, never on test");
  const margins = args.margins.split(",").map(Number);
  const relationWords = args["relation-words"].split(",").filter(Boolean);
  const dir = path.resolve("test/fixtures/generated", `eval-${split}-${count}`);
  writeShapesSplit(dir, count, split);
  const scenes = readShapesSplit(dir, count);
  const pack = await loadModelPack(args.pack, {
    roles: ["encoder", "decoder", "batchedDecoder", "image", "text", "clipImage"],
  });
  const extractor = createRegionExtractor(pack);
  const clip = createClipImageEmbedder(pack);
  const text = createTextTower(pack);
  const { views } = pack.manifest.embedder;
  const t0 = performance.now();

  // Per scene: regions with a context vector and one detail vector per margin.
  const scored: {
    scene: (typeof scenes)[number];
    masks: ScoredScene["masks"];
    context: Float32Array[];
    detail: Float32Array[][];
  }[] = [];
  for (const [i, scene] of scenes.entries()) {
    const bytes = new Uint8Array(readFileSync(scene.png));
    const extracted = await extractor.extract(bytes);
    const image = await decodeImage(bytes);
    const context = extracted.regions.map((r) =>
      views ? splitView(r.vector, "context", views)! : r.vector,
    );
    const detail: Float32Array[][] = [];
    for (const m of margins) {
      detail.push(
        await clip.embed(
          extracted.regions.map((r) => (out: Float32Array, offset: number) => {
            out.set(detailViewInput(image, r.bbox, m, pack.manifest.embedder), offset);
          }),
        ),
      );
    }
    scored.push({ scene, masks: extracted.regions.map((r) => r.mask), context, detail });
    if ((i + 1) % 50 === 0)
      console.log(
        `  ${i + 1}/${scenes.length} scenes, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
  }

  const rows: {
    margin: number;
    w: number;
    recallAt1: number;
    recallAt10: number;
    mAP: number;
    attribute: number;
    context: number;
  }[] = [];
  for (const [mi, margin] of margins.entries()) {
    const perScene: ScoredScene[] = scored.map((s) => ({
      scene: s.scene,
      masks: s.masks,
      views: [s.context, s.detail[mi]!],
    }));
    for (const w of WEIGHTS) {
      const lib = await libraryMetrics(perScene, text, [1 - w, w]);
      const ref = await referringTop1(perScene, text, [1 - w, w], relationWords);
      rows.push({ margin, w, ...lib, attribute: ref.attribute, context: ref.context });
    }
  }
  const alphaOnly = rows.find((r) => r.w === 0)!;
  const allowed = rows.filter((r) => r.context >= alphaOnly.context - 0.01);
  const objective = (r: (typeof rows)[number]) => r.recallAt1 + r.mAP + r.attribute;
  const best = allowed.reduce((a, b) => (objective(b) > objective(a) ? b : a));
  const md = [
    `### Dual-view tuning: ${pack.id}, ${scenes.length} ${split} scenes`,
    "",
    markdownTable(
      ["margin", "w", "recall@1", "recall@10", "mAP@100", "attribute top-1", "context top-1"],
      rows
        .filter((r) => Math.round(r.w * 20) % 2 === 0 || r === best)
        .map((r) => [r.margin, r.w, r.recallAt1, r.recallAt10, r.mAP, r.attribute, r.context]),
    ),
    "",
    `Chosen (best recall@1 + mAP + attribute with context ≥ alpha-only − 0.01 = ${(alphaOnly.context - 0.01).toFixed(3)}): margin ${best.margin}, w ${best.w}.`,
    `${((performance.now() - t0) / 1000).toFixed(0)} s.`,
  ].join("\n");
  console.log(md);
  await writeResults(
    args.out,
    "tune-views",
    { pack: pack.id, split, scenes: scenes.length, relationWords, rows, best },
    md,
  );
  await pack.release();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
