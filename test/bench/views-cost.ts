/**
 * `npm run bench:views [-- --images N] [--sequential-images K] [--rounds R]`: what the detail view
 * costs. The dual-view pack and an alpha-only copy of it (the same files, `views` removed) ingest
 * the same images through the local server, in alternating runs (A B, B A, …) so drift of the
 * machine falls on both alike: one at a time (`?wait=true`) and in bulk, then search latency.
 * Writes `results/views-cost/views-cost.{json,md}`.
 */
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadModels, type Models } from "../../src/node/server/models.js";
import { writeShapesSplit } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";
import { benchIngestAndSearch, type IngestSpeed, type SearchSpeed } from "./bench/ingest-speed.js";
import { machineInfo, markdownTable, writeResults } from "./report.js";
import { mean } from "./stats.js";

const { values: args } = parseArgs({
  options: {
    images: { type: "string", default: "40" },
    "sequential-images": { type: "string", default: "12" },
    rounds: { type: "string", default: "3" },
    pack: { type: "string", default: "models/shapes-tiny" },
    threads: { type: "string", default: "2" },
    out: { type: "string", default: "results/views-cost" },
  },
});

/** A folder with the pack's files linked and its manifest without `views`: the alpha-only variant. */
async function alphaOnlyCopy(packDir: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "alpha-only-pack-"));
  for (const name of await readdir(packDir))
    if (name !== "manifest.json") await symlink(path.resolve(packDir, name), path.join(dir, name));
  const manifest = JSON.parse(await readFile(path.join(packDir, "manifest.json"), "utf8"));
  if (!manifest.embedder.views) throw new Error(`${packDir} has no views: nothing to compare`);
  delete manifest.embedder.views;
  manifest.version = `${manifest.version}-alpha-only`;
  await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
  return dir;
}

interface Run {
  variant: "dual" | "alpha";
  ingest: IngestSpeed;
  search: SearchSpeed;
}

async function main(): Promise<void> {
  const images = Number(args.images),
    sequential = Number(args["sequential-images"]),
    rounds = Number(args.rounds);
  const session = { intraOpNumThreads: Number(args.threads), interOpNumThreads: 1 };
  const splitDir = path.resolve("test/fixtures/generated", `bench-test-${images}`);
  writeShapesSplit(splitDir, images);
  const scenes = readShapesSplit(splitDir, images);
  const alphaDir = await alphaOnlyCopy(args.pack);
  const variants: Record<Run["variant"], Models> = {
    dual: await loadModels({ packDir: args.pack, session }),
    alpha: await loadModels({ packDir: alphaDir, session }),
  };
  const runs: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const variant of (r % 2 === 0
      ? ["alpha", "dual"]
      : ["dual", "alpha"]) as Run["variant"][]) {
      console.log(`round ${r + 1}/${rounds}: ${variant}`);
      runs.push({
        variant,
        ...(await benchIngestAndSearch(
          variants[variant],
          scenes,
          100,
          sequential,
          () => undefined,
        )),
      });
    }
  }
  await Promise.all(Object.values(variants).map((m) => m.release()));
  await rm(alphaDir, { recursive: true, force: true });

  const figure = (v: Run["variant"], f: (r: Run) => number) =>
    mean(runs.filter((r) => r.variant === v).map(f));
  const rows: [string, (r: Run) => number][] = [
    ["one at a time: p50 latency (ms)", (r) => r.ingest.sequential.latencyMs.p50],
    ["one at a time: wall ms per image", (r) => r.ingest.sequential.wallMsPerImage],
    ["bulk: wall ms per image", (r) => r.ingest.bulk.wallMsPerImage],
    ["bulk: images/s", (r) => r.ingest.bulk.imagesPerSecond],
    ["search HTTP p50 (ms)", (r) => r.search.httpMs.p50],
    ["search HTTP p99 (ms)", (r) => r.search.httpMs.p99],
  ];
  const table = rows.map(([name, f]) => {
    const a = figure("alpha", f),
      d = figure("dual", f);
    return [name, a, d, `${(((d - a) / a) * 100).toFixed(1)} %`];
  });
  const md = [
    `### Cost of the detail view: ${variants.dual.pack.id}, ${images} images (${sequential} one at a time, the rest in bulk), ${rounds} alternating rounds each`,
    "",
    markdownTable(["figure", "alpha only", "dual view", "change"], table, 1),
    "",
    `Dual-view stages per image (ms, mean of the bulk runs): crop ${figure("dual", (r) => r.ingest.bulk.stageMs["crop"] ?? 0).toFixed(1)}, detail (CLIP inference) ${figure("dual", (r) => r.ingest.bulk.stageMs["detail"] ?? 0).toFixed(1)}, embed (Alpha-CLIP) ${figure("dual", (r) => r.ingest.bulk.stageMs["embed"] ?? 0).toFixed(1)}.`,
    "",
    `Machine: ${machineInfo().cpu}, ${machineInfo().cores} cores.`,
  ].join("\n");
  console.log(md);
  await writeResults(
    args.out,
    "views-cost",
    { pack: variants.dual.pack.id, images, sequential, rounds, runs, machine: machineInfo() },
    md,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
