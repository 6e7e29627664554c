/** The drill's end: one last restart without a kill, the queue drained, everything checked once more. */
import { checkAll, type DrillContext } from "./cycle.js";
import { peekStatus } from "./observe.js";
import { sleep, startServer, stopGracefully } from "../lib/server.js";

export interface FinalResult {
  readyMs: number;
  /** Unfinished records at the last restart, all of which must reach `indexed`. */
  backlog: number;
  drainMs: number;
  violations: string[];
}

export async function finalDrain(ctx: DrillContext, timeoutMs: number): Promise<FinalResult> {
  const server = await startServer({ dataDir: ctx.dataDir, port: ctx.port, logFile: ctx.logFile });
  const before = await checkAll(ctx, server, -1);
  const t0 = performance.now();
  const stuck = await waitUntilSettled(ctx, server.baseUrl, timeoutMs);
  const drainMs = performance.now() - t0;
  const after = await checkAll(ctx, server, -1);
  await stopGracefully(server);
  const violations = [
    ...before.violations,
    ...after.violations,
    ...stuck.map((id) => `final: ${id} not indexed after ${timeoutMs} ms`),
  ];
  return {
    readyMs: Math.round(server.readyMs),
    backlog: before.backlog,
    drainMs: Math.round(drainMs),
    violations,
  };
}

/** Waits until every image with a record is indexed; returns the ids that never got there. */
async function waitUntilSettled(
  ctx: DrillContext,
  baseUrl: string,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  let open = [...ctx.tracked.keys()];
  while (open.length > 0 && performance.now() < deadline) {
    const statuses = await Promise.all(open.map((id) => peekStatus(baseUrl, id)));
    // null: no record (an upload the kill cut off before it was stored) — nothing to wait for.
    open = open.filter((_, i) => statuses[i] !== null && statuses[i]!.status !== "indexed");
    if (open.length > 0) await sleep(500);
  }
  return open;
}
