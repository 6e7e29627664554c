/**
 * `npm run test:qdrant` (last step) or `tsx test/drills/qdrant-node-loss.ts`: kill one node of a
 * 3-node Qdrant cluster (infra/qdrant/compose.cluster.yaml or the Helm values) under the app's
 * layout, and check what the docs promise (docs/qdrant.md "Kill-one-node drill"):
 *
 *   1. healthy: the store starts (every shard has its replicas), writes and reads work;
 *   2. one node down: searches and counts still answer, complete (every shard has a live replica);
 *      a write either succeeds or fails as 5xx — with write_consistency_factor 2 it fails for the
 *      shards with a replica on the dead node — and none hangs past its two requests' deadlines;
 *      a new app instance still starts (a down replica still counts, it is not missing);
 *   3. node back: after the replicas recover, every acknowledged write is there, exactly once.
 *
 * Needs QDRANT_URL (+ QDRANT_API_KEY) of a node that stays up and the commands that stop and
 * restart another: QDRANT_DRILL_KILL / QDRANT_DRILL_RESTORE, e.g. for the compose cluster
 *   QDRANT_DRILL_KILL="docker compose -f infra/qdrant/compose.cluster.yaml kill qdrant-3"
 *   QDRANT_DRILL_RESTORE="docker compose -f infra/qdrant/compose.cluster.yaml start qdrant-3"
 * and for Helm `kubectl -n region-search delete pod qdrant-2` (restore: the StatefulSet restarts
 * it; use `kubectl -n region-search wait --for=condition=ready pod/qdrant-2`). Without them it says
 * so and exits 0 having changed nothing. Writes results/drills/qdrant-node-loss.json; exits 1 on any
 * broken promise. NOT RUN HERE: no Qdrant server can run on the machines this project is built on.
 */
import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pointId } from "../../src/lib/store/ids.js";
import { createQdrantStore, qdrantClient } from "../../src/lib/store/qdrant/index.js";
import type { StoredPoint } from "../../src/lib/store/types.js";

const env = process.env;
const url = env.QDRANT_URL;
const kill = env.QDRANT_DRILL_KILL;
const restore = env.QDRANT_DRILL_RESTORE;
const timeoutMs = Number(env.QDRANT_TIMEOUT_MS ?? 10_000);
const DIM = 64;
const PACK = "drill@1";
const log = (s: string) => console.log(`[qdrant-drill] ${s}`);

function points(imageId: string, n: number): StoredPoint[] {
  return Array.from({ length: n }, (_, regionIndex) => ({
    id: pointId("drill", imageId, regionIndex, PACK),
    vector: Float32Array.from({ length: DIM }, (_, i) => Math.cos(i + regionIndex)),
    payload: {
      tenant: "drill",
      imageId,
      kind: "region" as const,
      regionIndex,
      bbox: [0, 0, 1, 1] as [number, number, number, number],
      area: 1,
      predictedIou: 1,
      stability: 1,
      mask: null,
      pack: PACK,
      imageWidth: 1,
      imageHeight: 1,
      createdAt: new Date().toISOString(),
    },
  }));
}

async function main(): Promise<number> {
  if (!url || !kill || !restore) {
    log(
      "skipped: set QDRANT_URL, QDRANT_DRILL_KILL and QDRANT_DRILL_RESTORE to run it (see the file comment)",
    );
    return 0;
  }
  const collection = `rs_drill_${Date.now().toString(36)}`;
  const options = {
    url,
    apiKey: env.QDRANT_API_KEY || undefined,
    collection,
    dim: DIM,
    timeoutMs,
    shardNumber: Number(env.QDRANT_SHARD_NUMBER ?? 3),
    replicationFactor: Number(env.QDRANT_REPLICATION_FACTOR ?? 2),
    writeConsistencyFactor: Number(env.QDRANT_WRITE_CONSISTENCY_FACTOR ?? 2),
  };
  const broken: string[] = [];
  const acked = new Map<string, number>();
  const store = await createQdrantStore(options);
  for (let i = 0; i < 20; i++) {
    await store.replaceImage("drill", `before${i}`, points(`before${i}`, 8));
    acked.set(`before${i}`, 8);
  }
  log(`healthy: 20 images written to ${collection}; killing a node: ${kill}`);
  execSync(kill, { stdio: "inherit" });

  const down = { writesOk: 0, writesFailed: 0, slowest: 0, searchOk: false, restartOk: false };
  const count = await store.count("drill").catch((e: unknown) => String(e));
  down.searchOk = count === 160;
  if (!down.searchOk) broken.push(`count with a node down: ${count}, expected 160`);
  for (let i = 0; i < 20; i++) {
    const t0 = Date.now();
    try {
      await store.replaceImage("drill", `during${i}`, points(`during${i}`, 8));
      acked.set(`during${i}`, 8);
      down.writesOk++;
    } catch (err) {
      down.writesFailed++;
      const status = (err as { status?: number }).status ?? 0;
      if (status < 500) broken.push(`a write failed with ${status} (expected 5xx): ${String(err)}`);
    }
    down.slowest = Math.max(down.slowest, Date.now() - t0);
  }
  // replaceImage is two requests here (the id read, one write), each within one QDRANT_TIMEOUT_MS.
  if (down.slowest > 2 * timeoutMs + 500)
    broken.push(
      `a write took ${down.slowest} ms with a node down (QDRANT_TIMEOUT_MS ${timeoutMs})`,
    );
  down.restartOk = await createQdrantStore(options).then(
    () => true,
    (e: unknown) => (broken.push(`a new instance refused to start: ${String(e)}`), false),
  );
  log(`node down: ${JSON.stringify(down)}; restoring: ${restore}`);
  execSync(restore, { stdio: "inherit" });

  const client = qdrantClient(options);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const info = await client.collectionClusterInfo(collection).catch(() => null);
    const replicas = info ? [...info.local_shards, ...info.remote_shards] : [];
    if (replicas.length && replicas.every((r) => r.state === "Active")) break;
    if (Date.now() > deadline) {
      broken.push("replicas not all Active 120 s after the node came back");
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  for (const [imageId, n] of acked) {
    const held = await store.count("drill", { imageIds: [imageId] });
    if (held !== n) broken.push(`${imageId}: ${held} points after recovery, ${n} acknowledged`);
  }
  const total = await store.count("drill");
  const result = { collection, timeoutMs, down, acknowledged: acked.size, total, broken };
  const out = path.resolve("results/drills/qdrant-node-loss.json");
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  await client.deleteCollection(`${collection}_v1`).catch(() => undefined);
  log(broken.length ? `BROKEN:\n  ${broken.join("\n  ")}` : `all promises kept; ${out}`);
  return broken.length ? 1 : 0;
}

process.exitCode = await main();
