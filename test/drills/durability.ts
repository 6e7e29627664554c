/**
 * `npm run drill:durability` — kill -9 the embedded default (functions/local.ts: LanceDB, disk
 * catalog and blobs, in-process queue, shapes-tiny) again and again while uploads are in flight, and
 * check after every restart that nothing reported `indexed` was lost and nothing is half written
 * (rules in durability/invariants.ts). Ends with a drained queue and a direct audit of the store.
 * Summary on stdout, JSON in results/drills/durability.json; exits 1 on any violation.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { seededRandom } from "../bench/stats.js";
import { runCycle, upload, type CycleResult, type DrillContext } from "./durability/cycle.js";
import { finalDrain } from "./durability/final.js";
import { auditStore } from "./durability/store-audit.js";
import { summarise } from "./durability/summary.js";
import { prepareScenes } from "./lib/scenes.js";
import { REPO_ROOT, killHard, startServer } from "./lib/server.js";

const { values: args } = parseArgs({
  options: {
    cycles: { type: "string", default: "100" },
    quick: { type: "boolean", default: false },
    uploads: { type: "string", default: "2" },
    backlog: { type: "string", default: "3" },
    "max-delay-ms": { type: "string" },
    "after-indexed-ms": { type: "string", default: "1500" },
    port: { type: "string", default: "18731" },
    seed: { type: "string", default: "1" },
    scenes: { type: "string", default: "24" },
    keep: { type: "boolean", default: false },
    out: { type: "string", default: path.join(REPO_ROOT, "results/drills/durability.json") },
  },
});

async function main(): Promise<void> {
  const cycles = args.quick ? 5 : Number(args.cycles);
  const work = mkdtempSync(path.join(os.tmpdir(), "rs-drill-durability-"));
  const log = (s: string) => console.log(`[drill] ${s}`);
  log(`work dir ${work}; rendering ${args.scenes} shapes scenes`);
  const ctx: DrillContext = {
    dataDir: path.join(work, "data"),
    port: Number(args.port),
    logFile: path.join(work, "server.log"),
    scenes: prepareScenes(path.join(work, "scenes"), Number(args.scenes)),
    tracked: new Map(),
    random: seededRandom(Number(args.seed)),
    maxDelayMs: 0,
    afterIndexedMs: Number(args["after-indexed-ms"]),
    progressCapMs: 0,
    uploadsPerCycle: Number(args.uploads),
    maxBacklog: Number(args.backlog),
    uploadsSoFar: 0,
  };
  const t0 = performance.now();
  const warm = await warmUp(ctx);
  ctx.maxDelayMs = args["max-delay-ms"] ? Number(args["max-delay-ms"]) : warm.coldIngestMs;
  ctx.progressCapMs = 4 * warm.coldIngestMs;
  log(
    `server ready in ${warm.readyMs} ms; ingest ${warm.coldIngestMs} ms cold, ${warm.warmIngestMs} ms warm; kills at U(0, ${ctx.maxDelayMs}) ms (odd cycles) or U(0, ${ctx.afterIndexedMs}) ms after an image is indexed (even)`,
  );

  const results: CycleResult[] = [];
  for (let c = 1; c <= cycles; c++) {
    const r = await runCycle(ctx, c);
    results.push(r);
    log(
      `cycle ${c}/${cycles}: ready ${r.readyMs} ms, checked ${r.checked} in ${r.checkMs} ms, backlog ${r.backlog}, ` +
        `+${r.acknowledged}/${r.uploads} acked, +${r.newlyIndexed} indexed, ${r.mode} kill at ${r.delayMs} ms${r.violations.length ? `, ${r.violations.length} VIOLATIONS` : ""}`,
    );
    for (const v of r.violations) log(`  ✗ ${v}`);
  }
  const final = await finalDrain(ctx, 600_000);
  const audit = await auditStore(ctx.dataDir);
  const summary = summarise({
    cycles: results,
    final,
    audit,
    tracked: [...ctx.tracked.values()],
    warm,
    maxDelayMs: ctx.maxDelayMs,
    afterIndexedMs: ctx.afterIndexedMs,
    wallS: (performance.now() - t0) / 1000,
  });
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ summary, cycles: results, final, audit }, null, 2));
  console.log(JSON.stringify(summary, null, 2));
  log(`wrote ${args.out}${args.keep ? `; data kept in ${work}` : ""}`);
  if (!args.keep) rmSync(work, { recursive: true, force: true });
  process.exit(summary.violations.length === 0 ? 0 : 1);
}

/** First start: model load time, and one image ingested cold (worker models load lazily) and one warm. */
async function warmUp(ctx: DrillContext) {
  const server = await startServer({ dataDir: ctx.dataDir, port: ctx.port, logFile: ctx.logFile });
  const timeIngest = async (id: string) => {
    const t = performance.now();
    const answer = await upload(ctx, server, id, 0, { stop: false });
    if (answer !== "acknowledged") throw new Error(answer);
    for (;;) {
      const res = await fetch(`${server.baseUrl}/v1/images/${id}`);
      const body = (await res.json()) as { status: string };
      if (body.status === "indexed") return Math.round(performance.now() - t);
      if (body.status === "failed") throw new Error(`warm-up image ${id} failed`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const coldIngestMs = await timeIngest("warm-0");
  const warmIngestMs = await timeIngest("warm-1");
  await killHard(server);
  return {
    readyMs: Math.round(server.readyMs),
    coldIngestMs,
    warmIngestMs,
    loadAvg1m: Number(os.loadavg()[0]!.toFixed(2)),
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
