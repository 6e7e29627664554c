/**
 * `npm run eval:no-match [-- --validation N] [--test N]`: can a score threshold honestly answer
 * "nothing here"? Every caption of the shapes world (8 shapes × 11 colours × 2 sizes × 3 patterns)
 * is searched in libraries of growing size; a caption whose object is in the library should get a
 * right top hit, one whose object is absent should get nothing. For a threshold `t` (answer only
 * when the top score ≥ t): precision = right top hits / answers, coverage = right answers / queries
 * whose object is present, false answers = answers / queries whose object is absent. `t` is chosen
 * on validation (lowest t with precision ≥ 0.9 at the largest library), then measured on test
 * libraries of 50 … N images to see whether it stays put as the library grows.
 * Writes `results/no-match/no-match.{json,md}`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { rleIou } from "../../src/lib/masks/rle.js";
import type { CocoRle } from "../../src/lib/masks/types.js";
import { loadModelPack } from "../../src/node/models/pack.js";
import { createRegionExtractor, createTextEmbedder } from "../../src/node/pipeline/extractor.js";
import { writeShapesSplit } from "../setup/shapes-fixtures.js";
import { attributesOf as key, readShapesSplit, type ShapesScene } from "../support/shapes.js";
import { IOU_HIT, dot } from "./eval/metrics.js";
import { markdownTable, writeResults } from "./report.js";

const { values: args } = parseArgs({
  options: {
    validation: { type: "string", default: "300" },
    test: { type: "string", default: "500" },
    pack: { type: "string", default: "models/shapes-tiny" },
    out: { type: "string", default: "results/no-match" },
  },
});

const SHAPES = ["circle", "square", "triangle", "star", "hexagon", "cross", "heart", "diamond"];
const COLORS = [
  "red",
  "orange",
  "yellow",
  "green",
  "blue",
  "purple",
  "pink",
  "brown",
  "black",
  "white",
  "gray",
];
const SIZES = ["small", "large"],
  PATTERNS = ["plain", "striped", "dotted"];
const CAPTIONS = SIZES.flatMap((size) =>
  PATTERNS.flatMap((pattern) =>
    COLORS.flatMap((color) =>
      SHAPES.map((shape) => ({
        key: key({ size, pattern, color, shape }),
        text: `a ${size} ${pattern === "plain" ? "" : pattern + " "}${color} ${shape}`,
      })),
    ),
  ),
);

interface Region {
  scene: ShapesScene;
  mask: CocoRle;
  vector: Float32Array;
}
/** Per caption: the top score and whether the top region is a right match, for one library. */
interface Answer {
  present: boolean;
  score: number;
  right: boolean;
}

function answers(
  library: readonly Region[],
  scenes: readonly ShapesScene[],
  texts: readonly Float32Array[],
): Answer[] {
  const present = new Set(scenes.flatMap((s) => s.objects.map(key)));
  return CAPTIONS.map((c, ci) => {
    let best = -1,
      score = -Infinity;
    library.forEach((r, i) => {
      const s = dot(r.vector, texts[ci]!);
      if (s > score) [best, score] = [i, s];
    });
    const top = library[best]!;
    const right = top.scene.objects.some(
      (o) => key(o) === c.key && rleIou(top.mask, o.mask) >= IOU_HIT,
    );
    return { present: present.has(c.key), score, right };
  });
}

function at(list: readonly Answer[], t: number) {
  const answered = list.filter((a) => a.score >= t);
  const present = list.filter((a) => a.present),
    absent = list.filter((a) => !a.present);
  return {
    precision: answered.length
      ? answered.filter((a) => a.right).length / answered.length
      : Number.NaN,
    coverage: present.filter((a) => a.score >= t && a.right).length / Math.max(1, present.length),
    falseAnswers: absent.length
      ? absent.filter((a) => a.score >= t).length / absent.length
      : Number.NaN,
    present: present.length,
    absent: absent.length,
  };
}

async function regionsOf(
  split: string,
  count: number,
  pack: Awaited<ReturnType<typeof loadModelPack>>,
) {
  const dir = path.resolve("test/fixtures/generated", `eval-${split}-${count}`);
  writeShapesSplit(dir, count, split);
  const scenes = readShapesSplit(dir, count);
  const extractor = createRegionExtractor(pack);
  const regions: Region[][] = [];
  for (const scene of scenes) {
    const out = await extractor.extract(new Uint8Array(readFileSync(scene.png)));
    regions.push(out.regions.map((r) => ({ scene, mask: r.mask, vector: r.vector })));
  }
  return { scenes, regions };
}

async function main(): Promise<void> {
  const pack = await loadModelPack(args.pack, {
    roles: ["encoder", "decoder", "batchedDecoder", "image", "text", "clipImage"],
  });
  const text = createTextEmbedder(pack);
  const texts: Float32Array[] = [];
  for (const c of CAPTIONS) texts.push(await text.embedText(c.text));
  const val = await regionsOf("validation", Number(args.validation), pack);
  const valAnswers = answers(val.regions.flat(), val.scenes, texts);
  const grid = Array.from({ length: 241 }, (_, i) => -0.2 + i * 0.005);
  const q = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
  const rightScores = valAnswers.filter((a) => a.present && a.right).map((a) => a.score),
    absentScores = valAnswers.filter((a) => !a.present).map((a) => a.score);
  const spread = `validation top scores — right hits: p10 ${q(rightScores, 0.1).toFixed(3)}, p50 ${q(rightScores, 0.5).toFixed(3)}; absent objects: p50 ${q(absentScores, 0.5).toFixed(3)}, p90 ${q(absentScores, 0.9).toFixed(3)}`;
  const chosen = grid.find((t) => at(valAnswers, t).precision >= 0.9) ?? Number.NaN;
  const test = await regionsOf("test", Number(args.test), pack);
  const sizes = [50, 100, 200, test.scenes.length].filter(
    (n, i, a) => n <= test.scenes.length && a.indexOf(n) === i,
  );
  const rows = sizes.map((n) => {
    const a = answers(test.regions.slice(0, n).flat(), test.scenes.slice(0, n), texts);
    return { images: n, none: at(a, -Infinity), chosen: at(a, chosen) };
  });
  const md = [
    `### "No match" by a score threshold: ${pack.id}`,
    "",
    `Threshold chosen on ${val.scenes.length} validation images (lowest t with precision ≥ 0.9): **t = ${chosen.toFixed(3)}** (validation: ${JSON.stringify(at(valAnswers, chosen), (_, v) => (typeof v === "number" ? Number(v.toFixed(3)) : v))}).`,
    "",
    spread + ".",
    "",
    `On test libraries of growing size (${CAPTIONS.length} captions each; present = the library holds such an object):`,
    "",
    markdownTable(
      [
        "images",
        "present / absent",
        "precision (no threshold)",
        "precision (t)",
        "coverage (t)",
        "false answers on absent (no threshold → t)",
      ],
      rows.map((r) => [
        String(r.images),
        `${r.chosen.present} / ${r.chosen.absent}`,
        r.none.precision,
        r.chosen.precision,
        r.chosen.coverage,
        `${r.none.falseAnswers.toFixed(3)} → ${r.chosen.falseAnswers.toFixed(3)}`,
      ]),
    ),
  ].join("\n");
  console.log(md);
  await writeResults(
    args.out,
    "no-match",
    { pack: pack.id, threshold: chosen, validation: at(valAnswers, chosen), rows },
    md,
  );
  await pack.release();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
