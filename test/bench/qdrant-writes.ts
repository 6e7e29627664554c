/**
 * `npm run bench:qdrant [-- --regions N] [--timeouts 1000,3000]`: two figures of issue 20, against
 * the fake Qdrant (test/store/qdrant-fake.ts; no Qdrant server runs here).
 *
 * 1. What one `replaceImage` sends: requests, request bytes and answer bytes, for an image of N
 *    regions (+ 1 whole-image point), new / written again / written again with fewer regions —
 *    the adapter as it is (plain upserts, stale points deleted by id after a scroll of the ids) and
 *    the request shape it sent before (one `batch_update`: upserts with `update_filter`, then a
 *    delete by filter `tenant + image, must_not has_id [every new id]`), replayed through the same
 *    client. The fake applies both alike: what Qdrant saves by not fencing the shard's update queue
 *    for a filter (lib/collection/src/shards/local_shard/resolve_submit.rs) cannot show here.
 * 2. How long a caller waits when Qdrant stalls, for each QDRANT_TIMEOUT_MS: the adapter now (one
 *    deadline over all tries, a Qdrant `timeout` below it) and before (each of 3 tries bounded by
 *    the client timeout alone, back-off between them) — `callStore` without a budget is that path.
 */
import { writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Schemas } from "@qdrant/js-client-rest";
import { pointId } from "../../src/lib/store/ids.js";
import { createQdrantStore, qdrantClient } from "../../src/lib/store/qdrant/index.js";
import { callStore } from "../../src/lib/store/qdrant/errors.js";
import { imageCondition, tenantFilter } from "../../src/lib/store/qdrant/filter.js";
import { toPointStruct } from "../../src/lib/store/qdrant/payload.js";
import type { StoredPoint } from "../../src/lib/store/types.js";
import { FakeQdrant } from "../store/qdrant-fake.js";

const { values: args } = parseArgs({
  options: {
    regions: { type: "string", default: "40" },
    dim: { type: "string", default: "512" },
    timeouts: { type: "string", default: "1000,3000,10000" },
    out: { type: "string", default: "results/qdrant" },
  },
});
const REGIONS = Number(args.regions);
const DIM = Number(args.dim);
const PACK = "bench@1";

function points(imageId: string, regions: number): StoredPoint[] {
  return Array.from({ length: regions + 1 }, (_, k) => {
    const regionIndex = k - 1;
    const vector = Float32Array.from({ length: DIM }, (_, i) => Math.sin(i * 0.37 + k));
    return {
      id: pointId("t", imageId, regionIndex, PACK),
      vector,
      payload: {
        tenant: "t",
        imageId,
        kind: regionIndex < 0 ? "image" : "region",
        regionIndex,
        bbox: [10, 20, 30, 40],
        area: 1200,
        predictedIou: 0.91,
        stability: 0.95,
        // ~ the measured mean mask (infra/qdrant/README.md: 263 B of counts at shapes resolution).
        mask: regionIndex < 0 ? null : { size: [480, 640], counts: "a".repeat(263) },
        pack: PACK,
        imageWidth: 640,
        imageHeight: 480,
        createdAt: "2026-12-08T00:00:00.000Z",
      },
    };
  });
}

interface Cost {
  requests: number;
  requestBytes: number;
  responseBytes: number;
  ms: number;
}

async function measure(fake: FakeQdrant, run: () => Promise<unknown>): Promise<Cost> {
  const from = fake.requests.length;
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const sent = fake.requests.slice(from);
  return {
    requests: sent.length,
    requestBytes: sent.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r.body ?? "")), 0),
    responseBytes: sent.reduce((n, r) => n + r.responseBytes, 0),
    ms: Math.round(ms * 10) / 10,
  };
}

async function writeCost(fake: FakeQdrant) {
  const store = await createQdrantStore({ url: fake.url, collection: "bench_writes", dim: DIM });
  const client = qdrantClient({ url: fake.url });
  // The request the adapter sent before issue 20 (commit 629f139), replayed as it was.
  const before = (imageId: string, pts: StoredPoint[]) =>
    client.batchUpdate("bench_writes", {
      wait: true,
      operations: [
        { upsert: { points: pts.map(toPointStruct), update_filter: tenantFilter("t") } },
        {
          delete: {
            filter: tenantFilter(
              "t",
              [imageCondition(imageId)],
              [{ has_id: pts.map((p) => p.id) }],
            ),
          },
        },
      ] satisfies Schemas["UpdateOperation"][],
    });
  const now = (imageId: string, pts: StoredPoint[]) => store.replaceImage("t", imageId, pts);
  const cases = [
    ["new image", (id: string) => [points(id, REGIONS)]],
    ["written again, same regions", (id: string) => [points(id, REGIONS), points(id, REGIONS)]],
    [
      `written again, ${REGIONS / 2} regions fewer`,
      (id: string) => [points(id, REGIONS), points(id, REGIONS / 2)],
    ],
  ] as const;
  const rows = [];
  let n = 0;
  for (const [name, writes] of cases) {
    const row: Record<string, unknown> = { case: name };
    for (const [label, write] of [
      ["before", before],
      ["now", now],
    ] as const) {
      const id = `img${n++}`;
      const all = writes(id);
      for (const pts of all.slice(0, -1)) await write(id, pts);
      row[label] = await measure(fake, () => write(id, all.at(-1)!));
      const held = await store.count("t", { imageIds: [id] });
      if (held !== all.at(-1)!.length) throw new Error(`${label} ${name}: ${held} points stored`);
    }
    rows.push(row);
  }
  return rows;
}

async function stalledWait(fake: FakeQdrant, timeoutMs: number) {
  const store = await createQdrantStore({
    url: fake.url,
    collection: `bench_stall_${timeoutMs}`,
    dim: DIM,
    timeoutMs,
  });
  const client = qdrantClient({ url: fake.url, timeoutMs });
  const query = { query: Array.from({ length: DIM }, () => 1), using: "region", limit: 3 };
  const stall = () => fake.fail({ operationId: "query_points", stallMs: 60_000, times: 10 });
  const waited = async (run: () => Promise<unknown>) => {
    stall();
    const from = fake.requests.length;
    const t0 = performance.now();
    await run().catch(() => undefined);
    const ms = Math.round(performance.now() - t0);
    fake.clearFaults();
    const tries = fake.requests.slice(from).filter((r) => r.operationId === "query_points");
    // Does Qdrant go on working for a caller that has gone? Tries still unanswered 1.5 s later.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return {
      ms,
      tries: tries.length,
      qdrantTimeoutS: tries.map((r) => new URLSearchParams(r.query).get("timeout")),
      stillRunning1500msLater: tries.filter((r) => r.status === 0).length,
    };
  };
  const retry = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 };
  return {
    timeoutMs,
    now: await waited(() => store.search("t", new Float32Array(DIM).fill(1), { limit: 3 })),
    before: await waited(() =>
      callStore(() => client.query(`bench_stall_${timeoutMs}`, query), true, retry),
    ),
  };
}

const fake = await FakeQdrant.start();
try {
  const writes = await writeCost(fake);
  const stalls = [];
  for (const t of args.timeouts!.split(",").map(Number)) stalls.push(await stalledWait(fake, t));
  const result = {
    date: new Date().toISOString(),
    command: `npm run bench:qdrant -- --regions ${REGIONS} --dim ${DIM} --timeouts ${args.timeouts}`,
    regions: REGIONS,
    dim: DIM,
    writes,
    stalls,
  };
  await mkdir(args.out!, { recursive: true });
  await writeFile(path.join(args.out!, "qdrant.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await fake.close();
}
