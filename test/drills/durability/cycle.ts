/**
 * One kill cycle: start the server, check every image the drill knows, start uploads, poll statuses
 * (an `indexed` answer is a promise the next restarts must keep), then SIGKILL after a random delay.
 */
import { judge, newTracked, type Tracked } from "./invariants.js";
import { observeAll, peekStatus } from "./observe.js";
import type { DrillScenes } from "../lib/scenes.js";
import { killHard, sleep, startServer, type RunningServer } from "../lib/server.js";

export interface DrillContext {
  dataDir: string;
  port: number;
  logFile: string;
  scenes: DrillScenes;
  tracked: Map<string, Tracked>;
  random: () => number;
  /** Odd cycles: kill at U(0, maxDelayMs) after the uploads start (mostly mid-ingest). */
  maxDelayMs: number;
  /**
   * Even cycles: kill at U(0, afterIndexedMs) after the first image of the cycle is reported indexed
   * (the next job's writes, the catalog update), at the latest after `progressCapMs`. These cycles
   * guarantee progress on a slow machine, where a random kill rarely lets any job finish.
   */
  afterIndexedMs: number;
  progressCapMs: number;
  uploadsPerCycle: number;
  /** With this many images still unfinished at a restart, upload none this cycle (the queue catches up). */
  maxBacklog: number;
  uploadsSoFar: number;
}

export interface CycleResult {
  cycle: number;
  readyMs: number;
  checked: number;
  checkMs: number;
  /** Records found `queued`/`processing` at this restart: left by the previous kill, re-queued. */
  backlog: number;
  uploads: number;
  acknowledged: number;
  /** Images first reported `indexed` during this cycle. */
  newlyIndexed: number;
  mode: "random" | "after-indexed";
  /** Kill time after the uploads started. */
  delayMs: number;
  violations: string[];
}

export async function checkAll(ctx: DrillContext, server: RunningServer, cycle: number) {
  const t0 = performance.now();
  const items = [...ctx.tracked.values()];
  const observations = await observeAll(
    server.baseUrl,
    items.map((t) => t.id),
  );
  const violations = items.flatMap((t, i) =>
    judge(t, observations[i]!, cycle).map((v) => `cycle ${cycle}: ${v}`),
  );
  const backlog = observations.filter((o) => o.record && o.record.status !== "indexed").length;
  return { violations, backlog, checked: items.length, checkMs: performance.now() - t0 };
}

export async function runCycle(ctx: DrillContext, cycle: number): Promise<CycleResult> {
  const server = await startServer({ dataDir: ctx.dataDir, port: ctx.port, logFile: ctx.logFile });
  const check = await checkAll(ctx, server, cycle);
  const count = check.backlog >= ctx.maxBacklog ? 0 : ctx.uploadsPerCycle;
  const mode = cycle % 2 === 0 ? "after-indexed" : "random";
  const t0 = performance.now();
  let firstIndexed!: () => void;
  const indexedOnce = new Promise<void>((r) => (firstIndexed = r));
  const poll = { stop: false, newlyIndexed: 0, firstIndexed };
  const uploads = Array.from({ length: count }, (_, k) =>
    upload(ctx, server, `c${cycle}-${k}`, cycle, poll),
  );
  const poller = pollIndexed(ctx, server, cycle, poll);
  if (mode === "random") await sleep(ctx.random() * ctx.maxDelayMs);
  else {
    await Promise.race([indexedOnce, sleep(ctx.progressCapMs)]);
    await sleep(ctx.random() * ctx.afterIndexedMs);
  }
  const delayMs = Math.round(performance.now() - t0);
  poll.stop = true;
  await killHard(server);
  const answers = await Promise.all(uploads);
  await poller;
  const acked = answers.map((a) => a === "acknowledged");
  const failures = answers
    .filter((a) => a !== "acknowledged" && a !== "cut off")
    .map((a) => `cycle ${cycle}: ${a}`);
  return {
    cycle,
    readyMs: Math.round(server.readyMs),
    checked: check.checked,
    checkMs: Math.round(check.checkMs),
    backlog: check.backlog,
    uploads: count,
    acknowledged: acked.filter(Boolean).length,
    newlyIndexed: poll.newlyIndexed,
    mode,
    delayMs,
    violations: [...check.violations, ...failures],
  };
}

/** POST one scene under a fresh id: "acknowledged" (202), "cut off" by the kill, or what went wrong. */
export async function upload(
  ctx: DrillContext,
  server: RunningServer,
  id: string,
  cycle: number,
  kill: { stop: boolean },
): Promise<string> {
  const t = newTracked(id, cycle);
  ctx.tracked.set(id, t);
  const bytes = ctx.scenes.images[ctx.uploadsSoFar++ % ctx.scenes.images.length]!;
  try {
    const res = await fetch(`${server.baseUrl}/v1/images?id=${encodeURIComponent(id)}`, {
      method: "POST",
      headers: { "content-type": "image/png" },
      body: bytes,
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    t.acknowledged = res.status === 202;
    return t.acknowledged ? "acknowledged" : `upload ${id} answered ${res.status}`;
  } catch (err) {
    return kill.stop ? "cut off" : `upload ${id} failed before the kill: ${String(err)}`;
  }
}

/** Records every first `indexed` answer until told to stop. */
async function pollIndexed(
  ctx: DrillContext,
  server: RunningServer,
  cycle: number,
  poll: { stop: boolean; newlyIndexed: number; firstIndexed: () => void },
): Promise<void> {
  while (!poll.stop) {
    // Uploads the kill cut off in earlier cycles may never exist: poll only what can still be indexed.
    const pending = [...ctx.tracked.values()].filter(
      (t) => !t.indexed && (t.acknowledged || t.uploadedCycle === cycle),
    );
    for (const t of pending) {
      if (poll.stop) return;
      const rec = await peekStatus(server.baseUrl, t.id);
      // Answered by the live server, so it counts even if the kill follows at once.
      if (rec?.status === "indexed" && !t.indexed) {
        t.indexed = { regionCount: rec.regionCount ?? -1, cycle };
        poll.newlyIndexed++;
        poll.firstIndexed();
      }
    }
    await sleep(150);
  }
}
