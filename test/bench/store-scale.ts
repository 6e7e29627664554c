/**
 * Search latency of the embedded store at library scale, with synthetic vectors: a Gaussian mixture
 * (many tight clusters, like real region embeddings — uniform random vectors have no neighbours worth
 * finding). Exact scan vs the approximate index on the same table: p50/p99 and recall@10.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pointId } from "../../src/lib/store/ids.js";
import type { StoredPoint } from "../../src/lib/store/types.js";
import * as lancedb from "@lancedb/lancedb";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { pointSchema, toRow } from "../../src/node/store/lance-rows.js";
import { markdownTable } from "./report.js";
import { percentile, seededRandom } from "./stats.js";

export interface ScaleResult {
  regions: number;
  /** Bulk load of the synthetic rows (LanceDB `add`, not the store's upsert: loading is not what is measured). */
  loadSeconds: number;
  indexSeconds: number;
  exact: { p50: number; p99: number };
  approx: { p50: number; p99: number };
  speedup: number;
  recallAt10: number;
}

const TENANT = "bench";
const PACK = "synthetic@1";

export function mixture(dim: number, clusters: number, seed: number) {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, gauss));
  return (spread = 0.35): Float32Array => {
    const c = centres[Math.floor(rand() * clusters)]!;
    const v = Float32Array.from(c, (x) => x + spread * gauss());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
}

export function syntheticPoint(i: number, vector: Float32Array): StoredPoint {
  const imageId = `img-${Math.floor(i / 10)}`;
  const regionIndex = i % 10;
  return {
    id: pointId(TENANT, imageId, regionIndex, PACK),
    vector,
    payload: {
      tenant: TENANT,
      imageId,
      kind: "region",
      regionIndex,
      bbox: [0, 0, 10, 10],
      area: 100,
      predictedIou: 0.9,
      stability: 0.9,
      mask: { size: [10, 10], counts: "0" + "d1" },
      pack: PACK,
      imageWidth: 10,
      imageHeight: 10,
      createdAt: "2026-01-01T00:00:00.000Z",
    },
  };
}

/** Writes `regions` synthetic points into the store's table layout with plain appends. */
export async function bulkLoad(
  dir: string,
  regions: number,
  dim: number,
  sample: () => Float32Array,
  decorate: (p: StoredPoint) => StoredPoint = (p) => p,
): Promise<void> {
  const db = await lancedb.connect(dir);
  const table = await db.createEmptyTable("points", pointSchema(dim));
  const batch = 50_000;
  for (let start = 0; start < regions; start += batch) {
    const n = Math.min(batch, regions - start);
    await table.add(
      Array.from({ length: n }, (_, k) => toRow(decorate(syntheticPoint(start + k, sample())))),
    );
  }
  table.close();
  db.close();
}

async function timeQueries(store: LanceVectorStore, queries: Float32Array[], exact: boolean) {
  const times: number[] = [];
  const hits: string[][] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const res = await store.search(TENANT, q, { limit: 10, exact, filter: { kind: "region" } });
    times.push(performance.now() - t0);
    hits.push(res.map((h) => h.id));
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), hits };
}

export async function benchStoreScale(
  regions: number,
  dim: number,
  queryCount = 200,
  log = console.log,
): Promise<ScaleResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "scale-"));
  const sample = mixture(dim, Math.max(50, Math.round(regions / 200)), 7);
  const t0 = performance.now();
  await bulkLoad(dir, regions, dim, sample);
  const loadSeconds = (performance.now() - t0) / 1000;
  const store = await LanceVectorStore.open({ dir, indexThreshold: Number.MAX_SAFE_INTEGER });
  log(`  ${regions} regions loaded in ${loadSeconds.toFixed(1)} s; building the ANN index…`);
  const t1 = performance.now();
  await store.buildIndexes();
  const indexSeconds = (performance.now() - t1) / 1000;
  const queries = Array.from({ length: queryCount }, () => sample());
  await timeQueries(store, queries.slice(0, 5), false); // warm caches
  const exact = await timeQueries(store, queries, true);
  const approx = await timeQueries(store, queries, false);
  let found = 0;
  exact.hits.forEach((truth, i) => {
    const got = new Set(approx.hits[i]);
    found += truth.filter((id) => got.has(id)).length / Math.max(1, truth.length);
  });
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    regions,
    loadSeconds,
    indexSeconds,
    exact: { p50: exact.p50, p99: exact.p99 },
    approx: { p50: approx.p50, p99: approx.p99 },
    speedup: exact.p50 / approx.p50,
    recallAt10: found / queries.length,
  };
}

/** The scale results as one Markdown table (shared by `npm run bench` and `npm run bench:scale`). */
export function scaleTable(rows: readonly ScaleResult[]): string {
  return markdownTable(
    [
      "regions",
      "exact p50 ms",
      "exact p99 ms",
      "ANN p50 ms",
      "ANN p99 ms",
      "speed-up",
      "recall@10",
      "index build s",
    ],
    rows.map((s) => [
      String(s.regions),
      s.exact.p50,
      s.exact.p99,
      s.approx.p50,
      s.approx.p99,
      s.speedup,
      s.recallAt10,
      s.indexSeconds,
    ]),
    2,
  );
}
