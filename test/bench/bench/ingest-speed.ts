/**
 * Ingest and search through the embedded default's real stack (buildLocalServer: disk catalog and
 * blobs, in-process queue, LanceDB, the one public app): images/s, time per stage, store writes,
 * and search latency with the library indexed.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RegionExtractor, TextEmbedder } from "../../../src/lib/services.js";
import { createLogger } from "../../../src/node/logging.js";
import { buildLocalServer } from "../../../src/node/server/build.js";
import type { ShapesScene } from "../../support/shapes.js";
import { mean, percentile } from "../stats.js";

export interface IngestSpeed {
  images: number;
  regions: number;
  seconds: number;
  imagesPerSecond: number;
  /** Mean ms per image of each pipeline stage, plus `storeWrite` and `other` (HTTP, blobs, catalog, queue). */
  stageMs: Record<string, number>;
}

export interface SearchSpeed {
  queries: number;
  indexedImages: number;
  indexedRegions: number;
  httpMs: { p50: number; p99: number };
  textMs: { p50: number; p99: number };
  storeMs: { p50: number; p99: number };
}

/** Wraps `fn` so every call's duration is pushed to `into`. */
function timed<A extends unknown[], R>(fn: (...a: A) => Promise<R>, into: number[]): (...a: A) => Promise<R> {
  return async (...a: A) => {
    const t0 = performance.now();
    try {
      return await fn(...a);
    } finally {
      into.push(performance.now() - t0);
    }
  };
}

export async function benchIngestAndSearch(
  models: { extractor: RegionExtractor; text: TextEmbedder },
  scenes: ShapesScene[],
  queryCount: number,
  log: (s: string) => void,
): Promise<{ ingest: IngestSpeed; search: SearchSpeed }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "rs-bench-"));
  const stageRuns: Record<string, number>[] = [];
  const extractor: RegionExtractor = {
    pack: models.extractor.pack,
    extract: async (bytes) => {
      const r = await models.extractor.extract(bytes);
      stageRuns.push(r.timings);
      return r;
    },
  };
  const textMs: number[] = [], storeMs: number[] = [], writeMs: number[] = [], httpMs: number[] = [];
  const text: TextEmbedder = { pack: models.text.pack, embedText: timed(models.text.embedText.bind(models.text), textMs) };
  const server = await buildLocalServer(
    { dataDir, limits: {}, apiKeys: {}, ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 }, vectorIndexThreshold: 50_000 },
    { extractor, text },
    createLogger("silent"),
  );
  server.vectors.upsert = timed(server.vectors.upsert.bind(server.vectors), writeMs);
  server.vectors.search = timed(server.vectors.search.bind(server.vectors), storeMs);

  const t0 = performance.now();
  const perImage: number[] = [];
  for (const [i, scene] of scenes.entries()) {
    const t = performance.now();
    const res = await server.app.request(`/v1/images?id=scene-${scene.seed}&wait=true`, {
      method: "POST", headers: { "content-type": "image/png" }, body: readFileSync(scene.png),
    });
    if (res.status !== 201) throw new Error(`ingest of scene ${scene.seed} answered ${res.status}: ${await res.text()}`);
    perImage.push(performance.now() - t);
    if ((i + 1) % 50 === 0) log(`  ingested ${i + 1}/${scenes.length} (${((performance.now() - t0) / (i + 1)).toFixed(0)} ms/image)`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const stageMs: Record<string, number> = {};
  for (const key of Object.keys(stageRuns[0] ?? {})) stageMs[key] = mean(stageRuns.map((r) => r[key] ?? 0));
  stageMs["storeWrite"] = mean(writeMs);
  stageMs["other"] = mean(perImage) - (stageMs["total"] ?? 0) - stageMs["storeWrite"];
  const regions = await server.vectors.count("default", { kind: "region" });

  const captions = scenes.flatMap((s) => s.objects.map((o) => o.caption)).slice(0, queryCount);
  textMs.length = 0;
  storeMs.length = 0;
  for (const q of captions) {
    const t = performance.now();
    const res = await server.app.request(`/v1/search?q=${encodeURIComponent(q)}&limit=10`);
    if (res.status !== 200) throw new Error(`search answered ${res.status}`);
    await res.json();
    httpMs.push(performance.now() - t);
  }
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
  const pct = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
  return {
    ingest: { images: scenes.length, regions, seconds, imagesPerSecond: scenes.length / seconds, stageMs },
    search: { queries: captions.length, indexedImages: scenes.length, indexedRegions: regions, httpMs: pct(httpMs), textMs: pct(textMs), storeMs: pct(storeMs) },
  };
}
