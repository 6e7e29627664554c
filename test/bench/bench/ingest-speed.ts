/**
 * Ingest and search through the embedded default's real stack (buildLocalServer: disk catalog and
 * blobs, in-process queue, LanceDB, the one public app): images/s, time per stage, store writes,
 * and search latency with the library indexed.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type {
  ExtractedImage,
  RegionExtractor,
  TextEmbedder,
  UploadPrefetch,
} from "../../../src/lib/services.js";
import { createLogger } from "../../../src/node/logging.js";
import { buildLocalServer } from "../../../src/node/server/build.js";
import type { ShapesScene } from "../../support/shapes.js";
import { mean, percentile } from "../stats.js";

/** One ingest phase: wall time, and the extractor's per-stage means over its images. */
export interface IngestPhase {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Wall-clock ms per image (seconds · 1000 / images). */
  wallMsPerImage: number;
  /** Mean ms per image of each pipeline stage, plus `storeWrite` (and, one at a time, `other`). */
  stageMs: Record<string, number>;
  /** 1 − (encoder + decoder + embed + detail ms per image) / wall ms per image: time the latency does not wait on a model. */
  nonModelShare: number;
}

export interface IngestSpeed {
  regions: number;
  /** One upload at a time with `?wait=true`: the latency of one image and where it goes. */
  sequential: IngestPhase & { latencyMs: { p50: number; p99: number } };
  /** The CLI's way (`region-search ingest`): `clientConcurrency` uploads in flight, the default queue. */
  bulk: IngestPhase & { clientConcurrency: number; queueConcurrency: number };
}

export interface SearchSpeed {
  queries: number;
  indexedImages: number;
  indexedRegions: number;
  httpMs: { p50: number; p99: number };
  textMs: { p50: number; p99: number };
  storeMs: { p50: number; p99: number };
}

/** The stages that are model inference; everything else is ours (decode, mask math, I/O). */
export const MODEL_STAGES = ["encoder", "decoder", "embed", "detail"] as const;

const modelMs = (stageMs: Record<string, number>): number =>
  MODEL_STAGES.reduce((s, k) => s + (stageMs[k] ?? 0), 0);

/** Wraps `fn` so every call's duration is pushed to `into`. */
function timed<A extends unknown[], R>(
  fn: (...a: A) => Promise<R>,
  into: number[],
): (...a: A) => Promise<R> {
  return async (...a: A) => {
    const t0 = performance.now();
    try {
      return await fn(...a);
    } finally {
      into.push(performance.now() - t0);
    }
  };
}

const QUEUE_CONCURRENCY = 2; // the local server's default INGEST_CONCURRENCY
const CLIENT_CONCURRENCY = 4; // the CLI's default --concurrency

export async function benchIngestAndSearch(
  models: { extractor: RegionExtractor; text: TextEmbedder; prefetch?: UploadPrefetch },
  scenes: ShapesScene[],
  queryCount: number,
  sequentialCount: number,
  log: (s: string) => void,
): Promise<{ ingest: IngestSpeed; search: SearchSpeed }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "rs-bench-"));
  const stageRuns: Record<string, number>[] = [];
  const inner = models.extractor;
  /** The latest extraction's span on this clock: from when its result came back, less its worker time. */
  const extraction = { start: Number.NaN, end: Number.NaN };
  const record = (r: ExtractedImage): ExtractedImage => {
    extraction.end = performance.now();
    extraction.start = extraction.end - (r.timings["total"] ?? 0);
    stageRuns.push(r.timings);
    return r;
  };
  const extractor: RegionExtractor = {
    pack: inner.pack,
    extract: async (bytes) => record(await inner.extract(bytes)),
  };
  // The server's upload check is the prefetch when the models have one (one decode per upload); a
  // redeemed extraction skips `extract`, so its timings are recorded here.
  const prefetch: UploadPrefetch | undefined = models.prefetch && {
    accept: models.prefetch.accept.bind(models.prefetch),
    redeem: (job, bytes) => models.prefetch!.redeem(job, bytes)?.then(record),
  };
  const textMs: number[] = [],
    storeMs: number[] = [],
    writeMs: number[] = [],
    httpMs: number[] = [];
  const text: TextEmbedder = {
    pack: models.text.pack,
    embedText: timed(models.text.embedText.bind(models.text), textMs),
  };
  const server = await buildLocalServer(
    {
      dataDir,
      limits: {},
      apiKeys: {},
      ingest: { concurrency: QUEUE_CONCURRENCY, maxAttempts: 1, backoffMs: 0 },
      vectorIndexThreshold: 50_000,
    },
    { extractor, text, ...(prefetch ? { prefetch } : {}) },
    createLogger("silent"),
  );
  // An ingest writes its points with one replaceImage (upsert + stale-point delete).
  server.vectors.replaceImage = timed(server.vectors.replaceImage.bind(server.vectors), writeMs);
  server.vectors.search = timed(server.vectors.search.bind(server.vectors), storeMs);
  const pathCalls = timeRequestPath(server);
  const pathMs: Record<string, number> = {};
  /** One at a time: each step's time inside the image's extraction span (overlapped) and outside it. */
  const ingestAlone = async (scene: ShapesScene): Promise<number> => {
    pathCalls.length = 0;
    const ms = await ingestOne(scene);
    for (const c of pathCalls) {
      const inside = Math.max(
        0,
        Math.min(c.end, extraction.end) - Math.max(c.start, extraction.start),
      );
      pathMs[c.step] = (pathMs[c.step] ?? 0) + (c.end - c.start - inside);
      if (inside > 0)
        pathMs[`${c.step} (overlapped)`] = (pathMs[`${c.step} (overlapped)`] ?? 0) + inside;
    }
    return ms;
  };
  const ingestOne = async (scene: ShapesScene): Promise<number> => {
    const t = performance.now();
    const res = await server.app.request(`/v1/images?id=scene-${scene.seed}&wait=true`, {
      method: "POST",
      headers: { "content-type": "image/png" },
      body: readFileSync(scene.png),
    });
    if (res.status !== 201)
      throw new Error(`ingest of scene ${scene.seed} answered ${res.status}: ${await res.text()}`);
    return performance.now() - t;
  };
  // The model worker loads its sessions lazily: pay that before anything is timed.
  await models.extractor.extract(readFileSync(scenes[0]!.png));

  const nSeq = Math.min(sequentialCount, scenes.length);
  const sequential = await timePhase(
    scenes.slice(0, nSeq),
    1,
    ingestAlone,
    stageRuns,
    writeMs,
    log,
  );
  // One image in flight: a step's time outside the extraction's span is a slice of the latency; the
  // rest ran while the models did (the upload-time extraction start) and is reported apart.
  const pathPerImage = Object.fromEntries(
    Object.entries(pathMs).map(([k, total]) => [k, total / Math.max(1, nSeq)]),
  );
  const latencies = sequential.perImage;
  pathCalls.length = 0;
  const bulk = await timePhase(
    scenes.slice(nSeq),
    CLIENT_CONCURRENCY,
    ingestOne,
    stageRuns,
    writeMs,
    log,
  );
  pathCalls.length = 0;
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
  // One at a time, the request path outside extraction and store writes is measurable as `other`.
  const outsideExtraction =
    mean(latencies) -
    (sequential.phase.stageMs["total"] ?? 0) -
    (sequential.phase.stageMs["storeWrite"] ?? 0);
  const pathSum = Object.entries(pathPerImage).reduce(
    (a, [k, v]) => (isOverlapped(k) ? a : a + v),
    0,
  );
  const seqStages = {
    ...sequential.phase.stageMs,
    ...pathPerImage,
    other: outsideExtraction - pathSum,
  };
  return {
    ingest: {
      regions,
      sequential: { ...sequential.phase, stageMs: seqStages, latencyMs: pct(latencies) },
      bulk: {
        ...bulk.phase,
        clientConcurrency: CLIENT_CONCURRENCY,
        queueConcurrency: QUEUE_CONCURRENCY,
      },
    },
    search: {
      queries: captions.length,
      indexedImages: scenes.length,
      indexedRegions: regions,
      httpMs: pct(httpMs),
      textMs: pct(textMs),
      storeMs: pct(storeMs),
    },
  };
}

/** Steps of the request path outside extraction and the point write (upload check, catalog, blobs), timed per call. */
type PathStep = "verify" | "catalog" | "blobs";

/** A stage row that ran alongside the models, so is no slice of the latency. */
export const isOverlapped = (stage: string): boolean => stage.endsWith(" (overlapped)");

interface PathCall {
  step: PathStep;
  start: number;
  end: number;
}

function timeRequestPath(server: Awaited<ReturnType<typeof buildLocalServer>>): PathCall[] {
  const calls: PathCall[] = [];
  const time =
    <A extends unknown[], R>(step: PathCall["step"], fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const start = performance.now();
      try {
        return await fn(...a);
      } finally {
        calls.push({ step, start, end: performance.now() });
      }
    };
  const { catalog, blobs, verifier, prefetch } = server.services;
  if (verifier) verifier.verify = time("verify", verifier.verify.bind(verifier));
  if (prefetch) prefetch.accept = time("verify", prefetch.accept.bind(prefetch));
  catalog.get = time("catalog", catalog.get.bind(catalog));
  catalog.put = time("catalog", catalog.put.bind(catalog));
  blobs.get = time("blobs", blobs.get.bind(blobs));
  blobs.put = time("blobs", blobs.put.bind(blobs));
  return calls;
}

/** Ingest `scenes` with `concurrency` uploads in flight; stage means over exactly these images. */
async function timePhase(
  scenes: ShapesScene[],
  concurrency: number,
  ingestOne: (scene: ShapesScene) => Promise<number>,
  stageRuns: Record<string, number>[],
  writeMs: number[],
  log: (s: string) => void,
): Promise<{ phase: IngestPhase; perImage: number[] }> {
  stageRuns.length = 0;
  writeMs.length = 0;
  const perImage: number[] = [];
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < scenes.length) {
      perImage.push(await ingestOne(scenes[next++]!));
      if (perImage.length % 50 === 0)
        log(
          `  ingested ${perImage.length}/${scenes.length} (${concurrency} in flight, ${((performance.now() - t0) / perImage.length).toFixed(0)} ms/image)`,
        );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - t0) / 1000;
  const stageMs: Record<string, number> = {};
  for (const key of Object.keys(stageRuns[0] ?? {}))
    stageMs[key] = mean(stageRuns.map((r) => r[key] ?? 0));
  stageMs["storeWrite"] = mean(writeMs);
  const wallMsPerImage = (seconds * 1000) / Math.max(1, scenes.length);
  const phase = {
    images: scenes.length,
    seconds,
    imagesPerSecond: scenes.length / seconds,
    wallMsPerImage,
    stageMs,
    nonModelShare: 1 - modelMs(stageMs) / wallMsPerImage,
  };
  return { phase, perImage };
}
