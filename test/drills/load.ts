/**
 * `npm run drill:load` — a bounded load drill on loopback against the embedded default
 * (functions/local.ts, its own DATA_DIR and port): a few shapes scenes indexed first, then
 *   1. a step-up sweep of search alone (GET /v1/search, varied captions), each step a fixed rate for a
 *      fixed time, stopping at the first step with ≥ 1 % errors or < 95 % of the target rate achieved:
 *      the last step that passed is the rate this machine sustains;
 *   2. a mixed run: search at --rate and ingest (POST /v1/images, the async 202 path, fresh ids) at
 *      --ingest-rate, together for --duration seconds, while the models index in the background.
 * Throughput, p50/p95/p99 and error rate per route on stdout and in results/drills/load.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { seededRandom } from "../bench/stats.js";
import { requestJson } from "./lib/http.js";
import { prepareScenes, type DrillScenes } from "./lib/scenes.js";
import { REPO_ROOT, killHard, startServer } from "./lib/server.js";
import { runRoute, type RouteFigures, type RouteRequest } from "./load/route-run.js";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "10" },
    "ingest-rate": { type: "string", default: "1" },
    duration: { type: "string", default: "60" },
    sweep: { type: "string", default: "5,10,20,40,80" },
    "step-duration": { type: "string", default: "15" },
    "seed-images": { type: "string", default: "6" },
    port: { type: "string", default: "18732" },
    out: { type: "string", default: path.join(REPO_ROOT, "results/drills/load.json") },
  },
});

const ERROR_BUDGET = 0.01;
const RATE_SHORTFALL = 0.95;

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), "rs-drill-load-"));
  const log = (s: string) => console.log(`[load] ${s}`);
  const t0 = performance.now();
  const scenes = prepareScenes(path.join(work, "scenes"), 12);
  const server = await startServer({
    dataDir: path.join(work, "data"),
    port: Number(args.port),
    logFile: path.join(work, "server.log"),
  });
  try {
    const seeded = await seedLibrary(server.baseUrl, scenes, Number(args["seed-images"]));
    log(
      `server ready in ${Math.round(server.readyMs)} ms; ${seeded.images} images (${seeded.regions} regions) indexed in ${seeded.seconds} s`,
    );
    const search = searchRequests(scenes.captions);
    const sweep: (RouteFigures & { sustained: boolean })[] = [];
    for (const rate of args.sweep.split(",").map(Number)) {
      const fig = await runRoute({
        name: "GET /v1/search",
        baseUrl: server.baseUrl,
        rate,
        durationS: Number(args["step-duration"]),
        next: search,
      });
      const sustained = fig.errorRate < ERROR_BUDGET && fig.achievedRate >= RATE_SHORTFALL * rate;
      sweep.push({ ...fig, sustained });
      log(`sweep ${line(fig)}${sustained ? "" : "  ← not sustained"}`);
      if (!sustained) break;
    }
    const sustainedSearchRate = Math.max(
      0,
      ...sweep.filter((s) => s.sustained).map((s) => s.targetRate),
    );
    log(`search sustains ${sustainedSearchRate} req/s (< 1 % errors, ≥ 95 % of the target rate)`);

    const duration = Number(args.duration);
    const ingestRate = Number(args["ingest-rate"]);
    const mixed = await Promise.all([
      runRoute({
        name: "GET /v1/search",
        baseUrl: server.baseUrl,
        rate: Number(args.rate),
        durationS: duration,
        next: search,
      }),
      runRoute({
        name: "POST /v1/images",
        baseUrl: server.baseUrl,
        rate: ingestRate,
        durationS: duration,
        amount: ingestRate * duration,
        next: ingestRequests(scenes),
      }),
    ]);
    for (const fig of mixed) log(`mixed ${line(fig)}`);
    const summary = {
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        loadAvg1m: Number(os.loadavg()[0]!.toFixed(2)),
        node: process.version,
      },
      config: { ...args, errorBudget: ERROR_BUDGET, rateShortfall: RATE_SHORTFALL },
      serverReadyMs: Math.round(server.readyMs),
      seeded,
      sweep,
      sustainedSearchRate,
      mixed,
      wallSeconds: Math.round((performance.now() - t0) / 1000),
    };
    mkdirSync(path.dirname(args.out), { recursive: true });
    writeFileSync(args.out, JSON.stringify(summary, null, 2));
    log(`wrote ${args.out} (${summary.wallSeconds} s in all)`);
  } finally {
    await killHard(server);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Indexes the first `count` scenes (wait=true), so searches have regions to rank. */
async function seedLibrary(baseUrl: string, scenes: DrillScenes, count: number) {
  const t0 = performance.now();
  let regions = 0;
  for (let i = 0; i < count; i++) {
    const res = await requestJson<{ regionCount: number }>(
      `${baseUrl}/v1/images?id=seed-${i}&wait=true`,
      {
        method: "POST",
        headers: { "content-type": "image/png" },
        body: scenes.images[i % scenes.images.length]!,
      },
      300_000,
    );
    if (res.status !== 201) throw new Error(`seeding image ${i} answered ${res.status}`);
    regions += res.body?.regionCount ?? 0;
  }
  return { images: count, regions, seconds: Math.round((performance.now() - t0) / 1000) };
}

/** Captions in a fixed shuffled order, one per request. */
function searchRequests(captions: string[]): () => RouteRequest {
  const random = seededRandom(7);
  const order = captions
    .map((c) => ({ c, k: random() }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.c);
  let i = 0;
  return () => ({
    method: "GET",
    path: `/v1/search?q=${encodeURIComponent(order[i++ % order.length]!)}&limit=10`,
  });
}

/** A scene under a fresh id each time: every request is a new image to ingest. */
function ingestRequests(scenes: DrillScenes): () => RouteRequest {
  let n = 0;
  const bodies = scenes.images.map((b) => Buffer.from(b));
  return () => ({
    method: "POST",
    path: `/v1/images?id=load-${n}`,
    headers: { "content-type": "image/png" },
    body: bodies[n++ % bodies.length]!,
  });
}

function line(f: RouteFigures): string {
  return `${f.route} @ ${f.targetRate}/s: ${f.achievedRate}/s ok, errors ${(100 * f.errorRate).toFixed(2)} %, p50/p95/p99 ${f.latencyMs.p50}/${f.latencyMs.p95}/${f.latencyMs.p99} ms`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
