/** The figures a durability run reports (stdout, results/drills/durability.json, RELIABILITY.md). */
import os from "node:os";
import { percentile } from "../../bench/stats.js";
import type { CycleResult } from "./cycle.js";
import type { FinalResult } from "./final.js";
import type { Tracked } from "./invariants.js";
import type { StoreAudit } from "./store-audit.js";

export interface SummaryInput {
  cycles: CycleResult[];
  final: FinalResult;
  audit: StoreAudit;
  tracked: Tracked[];
  warm: { readyMs: number; coldIngestMs: number; warmIngestMs: number; loadAvg1m: number };
  maxDelayMs: number;
  afterIndexedMs: number;
  wallS: number;
}

export function summarise(input: SummaryInput) {
  const { cycles, final, audit, tracked } = input;
  const ready = cycles.map((c) => c.readyMs);
  const violations = [
    ...cycles.flatMap((c) => c.violations),
    ...final.violations,
    ...audit.problems.map((p) => `audit: ${p}`),
    ...(audit.points === audit.expectedPoints
      ? []
      : [`audit: ${audit.points} points in the store, ${audit.expectedPoints} expected`]),
    ...audit.orphanImages.map((id) => `audit: points of ${id}, which has no record`),
  ];
  return {
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      loadAvg1m: Number(os.loadavg()[0]!.toFixed(2)),
      node: process.version,
    },
    kills: cycles.length,
    uploads: tracked.length,
    acknowledged: tracked.filter((t) => t.acknowledged).length,
    cutOffBeforeAck: tracked.filter((t) => !t.acknowledged).length,
    reportedIndexedDuringCycles: tracked.filter((t) => t.indexed && t.indexed.cycle > 0).length,
    /** Images whose record a restart found `queued`/`processing` (re-queued by recovery), all finished by the end. */
    recoveredAfterKill: tracked.filter((t) => t.recoveredAt.length > 0).length,
    maxRestartsBeforeIndexed: Math.max(0, ...tracked.map((t) => t.recoveredAt.length)),
    mostRestarted: [...tracked]
      .sort((a, b) => b.recoveredAt.length - a.recoveredAt.length)
      .slice(0, 3)
      .map((t) => ({ id: t.id, restarts: t.recoveredAt.length })),
    indexedAtEnd: audit.indexedRecords,
    pointsAtEnd: audit.points,
    restartReadyMs: {
      p50: percentile(ready, 50),
      p95: percentile(ready, 95),
      max: Math.max(...ready),
    },
    checkMsMax: Math.max(...cycles.map((c) => c.checkMs)),
    firstStart: input.warm,
    killDelayMs: {
      randomMax: input.maxDelayMs,
      afterIndexedMax: input.afterIndexedMs,
      p50: percentile(
        cycles.map((c) => c.delayMs),
        50,
      ),
    },
    finalDrain: { backlog: final.backlog, ms: final.drainMs },
    wallSeconds: Math.round(input.wallS),
    violations,
  };
}
