/**
 * Two figures of issue 22 (figures, not assertions; docs/results/query-by-example-metrics.md):
 *
 * 1. Query-by-example latency: the local server as `npm start` builds it (the model worker, LanceDB)
 *    with the bundled pack; shapes scenes are ingested, then `POST /v1/search/similar {example:
 *    {imageId, point}}` is asked for a point on each ground-truth object, one at a time. Reports
 *    p50/p90/p99 of the whole request and the median of each model stage, against a text search
 *    and a `regionId` similar search on the same store.
 * 2. What metrics cost per request: the same server with fake models, with and without
 *    METRICS_TOKEN, GET /healthz and GET /v1/search in process (`app.request`, no socket), rounds
 *    interleaved; plus the cost and size of one `GET /metrics` scrape.
 *
 * `npx tsx test/bench/example-metrics.ts [scenes] [requests] [all|example|metrics]` (defaults 8,
 * 4000, all); writes docs/results/query-by-example-metrics.json (a part run keeps the other part).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import type { VectorStore } from "../../src/lib/store/types.js";
import { createLogger } from "../../src/node/logging.js";
import { Metrics } from "../../src/node/metrics/registry.js";
import { meteredVectorStore } from "../../src/node/metrics/wrap.js";
import { createExampleEmbedder } from "../../src/node/pipeline/example-embedder.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { loadModels } from "../../src/node/server/models.js";
import { loadModelPack } from "../../src/node/models/pack.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { FakeExtractor, FakeTextEmbedder } from "../support/fakes.js";
import { readShapesSplit } from "../support/shapes.js";
import { mean, percentile } from "./stats.js";

const SCENES = Number(process.argv[2] ?? 8);
const REQUESTS = Number(process.argv[3] ?? 4000);
const PACK = "models/shapes-tiny";
const TOKEN = "bench-metrics-token-0123";
const log = createLogger("silent");
type App = { request: (url: string, init?: RequestInit) => Response | Promise<Response> };

const settings = (dataDir: string, metricsToken?: string) => ({
  dataDir,
  limits: {},
  apiKeys: {},
  ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 },
  vectorIndexThreshold: 50_000,
  metricsToken,
});

const ms = (t0: number) => performance.now() - t0;
const summary = (xs: number[]) => ({
  p50: percentile(xs, 50),
  p90: percentile(xs, 90),
  p99: percentile(xs, 99),
  mean: mean(xs),
});

async function timed(app: App, url: string, init?: RequestInit): Promise<number> {
  const t0 = performance.now();
  const res = await app.request(url, init);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return ms(t0);
}

async function exampleLatency() {
  const dataDir = await mkdtemp(path.join(tmpdir(), "rs-bench-example-"));
  const models = await loadModels({ packDir: PACK, session: {} });
  const server = await buildLocalServer(settings(dataDir), models, log);
  const json = (body: unknown): RequestInit => ({
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  try {
    const scenes = readShapesSplit(SHAPES_FIXTURE_DIR, SCENES);
    for (const [i, s] of scenes.entries()) {
      const bytes = await readFile(s.png);
      await timed(server.app, `/v1/images?id=scene-${i}&wait=true`, {
        method: "POST",
        body: bytes,
        headers: { "content-type": "image/png" },
      });
    }
    const example: number[] = [],
      text: number[] = [],
      byRegion: number[] = [];
    for (const [i, s] of scenes.entries()) {
      for (const o of s.objects) {
        const point = [
          Math.floor(o.bbox[0] + o.bbox[2] / 2),
          Math.floor(o.bbox[1] + o.bbox[3] / 2),
        ];
        example.push(
          await timed(
            server.app,
            "/v1/search/similar",
            json({ example: { imageId: `scene-${i}`, point } }),
          ),
        );
        text.push(await timed(server.app, "/v1/search", json({ query: o.caption })));
      }
    }
    const regions = (await (await server.app.request("/v1/search?q=shape&limit=50")).json()) as {
      results: { regionId: string }[];
    };
    for (const r of regions.results)
      byRegion.push(await timed(server.app, "/v1/search/similar", json({ regionId: r.regionId })));
    // Stage times of the same work on this thread (the server's worker reports none back).
    const pack = await loadModelPack(PACK, { session: {} });
    const embedder = createExampleEmbedder(pack);
    const stages: Record<string, number[]> = {};
    for (const s of scenes) {
      const bytes = await readFile(s.png);
      for (const o of s.objects) {
        const point: [number, number] = [
          Math.floor(o.bbox[0] + o.bbox[2] / 2),
          Math.floor(o.bbox[1] + o.bbox[3] / 2),
        ];
        const { timings } = await embedder.embedExample(bytes, { point });
        for (const [k, v] of Object.entries(timings)) (stages[k] ??= []).push(v);
      }
    }
    await pack.release();
    return {
      scenes: scenes.length,
      imageSize: [scenes[0]!.width, scenes[0]!.height],
      requests: example.length,
      exampleMs: summary(example),
      textSearchMs: summary(text),
      regionSimilarMs: summary(byRegion),
      exampleStageMedianMs: Object.fromEntries(
        Object.entries(stages).map(([k, v]) => [k, percentile(v, 50)]),
      ),
    };
  } finally {
    await server.close();
    await models.release();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * What the instruments themselves cost, without the app around them (steadier than the A/B on a
 * busy machine): one request-timer observation, and one metered call of a vector store that does
 * nothing, against the bare call. Nanoseconds per call, median of 10 runs of 100 000.
 */
async function instrumentCost() {
  const metrics = new Metrics({ processMetrics: false });
  const noop = { search: async () => [] } as unknown as VectorStore;
  const metered = meteredVectorStore(noop, metrics);
  const labels = { route: "/v1/search", method: "GET", status: "200" };
  const N = 100_000;
  const runs = async (f: () => void | Promise<void>) => {
    const perCall: number[] = [];
    for (let r = 0; r < 10; r++) {
      const t0 = performance.now();
      await f();
      perCall.push((ms(t0) * 1e6) / N);
    }
    return percentile(perCall, 50);
  };
  const timer = await runs(() => {
    for (let i = 0; i < N; i++) metrics.requestSeconds.startTimer()(labels);
  });
  const v = new Float32Array(4);
  // Each call awaited, as the app awaits it: the metered call's timer ends inside the measurement.
  const call = (store: VectorStore) => async () => {
    for (let i = 0; i < N; i++) await store.search("t", v, { limit: 1 });
  };
  return {
    requestTimer: timer,
    storeCallBare: await runs(call(noop)),
    storeCallMetered: await runs(call(metered)),
  };
}

async function metricsCost() {
  const dirs = [
    await mkdtemp(path.join(tmpdir(), "rs-bench-m0-")),
    await mkdtemp(path.join(tmpdir(), "rs-bench-m1-")),
  ];
  const models = { extractor: new FakeExtractor(), text: new FakeTextEmbedder() };
  const off = await buildLocalServer(settings(dirs[0]!), models, log);
  const on = await buildLocalServer(settings(dirs[1]!, TOKEN), models, log);
  const routes = ["/healthz", "/v1/search?q=red%20star"];
  const per: Record<string, { off: number[]; on: number[] }> = {};
  try {
    for (const url of routes) {
      per[url] = { off: [], on: [] };
      for (const app of [off.app, on.app]) for (let i = 0; i < 200; i++) await timed(app, url); // warm-up
      // Rounds interleaved, in ABBA order, so drift and order effects (GC, JIT, CPU contention)
      // fall on both sides alike.
      const sides = [
        ["off", off.app],
        ["on", on.app],
      ] as const;
      for (let round = 0; round < 10; round++) {
        for (const [side, app] of round % 2 ? [...sides].reverse() : sides) {
          const t0 = performance.now();
          for (let i = 0; i < REQUESTS / 10; i++) await (await app.request(url)).arrayBuffer();
          per[url]![side].push((ms(t0) * 1000) / (REQUESTS / 10));
        }
      }
    }
    const scrape: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const res = await on.app.request("/metrics", {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      bytes = (await res.arrayBuffer()).byteLength;
      scrape.push(ms(t0));
    }
    return {
      instrumentNanos: await instrumentCost(),
      requestsPerSide: REQUESTS,
      perRequestMicros: Object.fromEntries(
        Object.entries(per).map(([url, v]) => {
          const o = percentile(v.off, 50),
            n = percentile(v.on, 50);
          return [url, { off: o, on: n, added: n - o }];
        }),
      ),
      scrapeMs: summary(scrape),
      scrapeBytes: bytes,
    };
  } finally {
    await off.close();
    await on.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

const OUT = "docs/results/query-by-example-metrics.json";
const part = process.argv[4] ?? "all";
const previous = existsSync(OUT)
  ? (JSON.parse(await readFile(OUT, "utf8")) as Record<string, unknown>)
  : {};
// Each part carries its own date and command: a part run keeps the other part's figures.
const stamp = () => ({
  date: new Date().toISOString(),
  command: `npx tsx test/bench/example-metrics.ts ${SCENES} ${REQUESTS} ${part}`,
});
const result = {
  ...previous,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", node: process.version },
  ...(part !== "metrics" ? { example: { ...stamp(), ...(await exampleLatency()) } } : {}),
  ...(part !== "example" ? { metrics: { ...stamp(), ...(await metricsCost()) } } : {}),
};
await writeFile(OUT, JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
