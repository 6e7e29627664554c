/**
 * `GET /metrics` on the local server (fake models, LanceDB) and on the Node functions: off without a
 * token, guarded with one, and the same metric names everywhere, each moved by the event it counts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INGEST_JOB_PATH } from "../../src/lib/remote/ingest.js";
import type { VectorStore } from "../../src/lib/store/types.js";
import { createIngestFunction } from "../../src/node/functions/ingest/app.js";
import { createLogger } from "../../src/node/logging.js";
import { bearerMatches } from "../../src/node/metrics/http.js";
import { Metrics } from "../../src/node/metrics/registry.js";
import { meteredVectorStore } from "../../src/node/metrics/wrap.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { parseEnv } from "../../src/node/server/env.js";
import { openObjects } from "../../src/node/compose.js";
import { pngBytes } from "../api/harness.js";
import { SECRET, signedRequest } from "../functions/helpers.js";
import { MemoryVectorStore } from "../store/memory-store.js";
import { FakeExtractor, FakeTextEmbedder, sha256 } from "../support/fakes.js";

const TOKEN = "metrics-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };
const log = createLogger("silent");

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "rs-metrics-"));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

const server = (metricsToken?: string, extractor = new FakeExtractor()) =>
  buildLocalServer(
    {
      dataDir,
      limits: {},
      apiKeys: {},
      ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 1 },
      vectorIndexThreshold: 50_000,
      metricsToken,
    },
    { extractor, text: new FakeTextEmbedder() },
    log,
  );

/** The value of one sample line (`name{labels} value`) whose labels include all of `labels`. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("GET /metrics on the local server", () => {
  it("is not there without METRICS_TOKEN (404, the one error body)", async () => {
    const s = await server();
    try {
      const res = await s.app.request("/metrics");
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    } finally {
      await s.close();
    }
  });

  it("needs the bearer token; answers Prometheus text with every family", async () => {
    const s = await server(TOKEN);
    try {
      expect((await s.app.request("/metrics")).status).toBe(401);
      const wrong = await s.app.request("/metrics", { headers: { authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("www-authenticate")).toMatch(/Bearer/);
      const res = await s.app.request("/metrics", { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (const family of [
        "region_search_http_request_duration_seconds",
        "region_search_ingest_stage_duration_seconds",
        "region_search_ingest_jobs_total",
        "region_search_ingest_dead_letters_total",
        "region_search_queue_depth",
        "region_search_vector_store_call_duration_seconds",
        "region_search_vector_store_errors_total",
        "region_search_model_session_duration_seconds",
        "region_search_process_cpu_seconds_total",
      ])
        expect(text, family).toContain(`# TYPE ${family} `);
    } finally {
      await s.close();
    }
  });

  it("counts requests by route pattern and status, ingest stages and outcomes, store and model calls", async () => {
    const extractor = new FakeExtractor();
    const s = await server(TOKEN, extractor);
    try {
      const bytes = await pngBytes(30, 10);
      extractor.setLabels(bytes, ["purple cat", "green dog"]);
      const up = await s.app.request("/v1/images?id=pets&wait=true", {
        method: "POST",
        body: bytes as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "image/png" },
      });
      expect(up.status).toBe(201);
      extractor.invalid.add(sha256(await pngBytes(8, 8)));
      await s.app.request("/v1/images?id=broken&wait=true", {
        method: "POST",
        body: (await pngBytes(8, 8)) as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "image/png" },
      });
      await s.app.request("/v1/images/pets");
      await s.app.request("/v1/images/nope");
      await s.app.request("/v1/search?q=green%20dog");
      await s.app.request("/no/such/route");
      const text = await (await s.app.request("/metrics", { headers: auth })).text();
      const h = "region_search_http_request_duration_seconds_count";
      expect(sample(text, h, { route: "/v1/images/:id", method: "GET", status: "200" })).toBe(1);
      expect(sample(text, h, { route: "/v1/images/:id", method: "GET", status: "404" })).toBe(1);
      expect(sample(text, h, { route: "/v1/search", status: "200" })).toBe(1);
      expect(sample(text, h, { route: "unmatched", status: "404" })).toBe(1);
      expect(text).not.toContain("/no/such/route");
      const stage = "region_search_ingest_stage_duration_seconds_count";
      expect(sample(text, stage, { stage: "fake" })).toBe(1);
      expect(sample(text, "region_search_ingest_jobs_total", { outcome: "indexed" })).toBe(1);
      expect(sample(text, "region_search_ingest_jobs_total", { outcome: "failed" })).toBe(1);
      expect(sample(text, "region_search_ingest_dead_letters_total")).toBe(1);
      expect(sample(text, "region_search_queue_depth")).toBe(0);
      const store = "region_search_vector_store_call_duration_seconds_count";
      expect(sample(text, store, { op: "search" })).toBe(1);
      expect(sample(text, store, { op: "replaceImage" })).toBe(1);
      const model = "region_search_model_session_duration_seconds_count";
      expect(sample(text, model, { model: "text", use: "query" })).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe("metered vector store", () => {
  it("times calls and counts errors by operation, and still throws them", async () => {
    const metrics = new Metrics({ processMetrics: false });
    const failing: VectorStore = Object.assign(new MemoryVectorStore(), {
      count: async () => {
        throw new Error("store down");
      },
    });
    const store = meteredVectorStore(failing, metrics);
    await expect(store.count("t")).rejects.toThrow("store down");
    await store.search("t", new Float32Array(32), { limit: 1 });
    const text = (await metrics.expose()).body;
    expect(sample(text, "region_search_vector_store_errors_total", { op: "count" })).toBe(1);
    expect(
      sample(text, "region_search_vector_store_call_duration_seconds_count", { op: "count" }),
    ).toBe(1);
    expect(
      sample(text, "region_search_vector_store_errors_total", { op: "search" }),
    ).toBeUndefined();
  });
});

describe("metrics on the Node functions", () => {
  it("the ingest function serves the same names behind the same token, before the signature check", async () => {
    const metrics = new Metrics({ processMetrics: false });
    const objects = openObjects({ kind: "disk", dataDir });
    const vectors = meteredVectorStore(new MemoryVectorStore(), metrics);
    const { app } = createIngestFunction({ ...objects, vectors }, new FakeExtractor(), {
      secrets: [SECRET],
      metrics: { metrics, token: TOKEN },
    });
    const job = await signedRequest(`http://fn${INGEST_JOB_PATH}`, {
      tenant: "default",
      imageId: "gone",
      attempt: 1,
      final: true,
    });
    // A record that is gone, on the last attempt: failed for good (503, for the queue to dead-letter).
    expect((await app.request(job)).status).toBe(503);
    expect((await app.request("/metrics")).status).toBe(401);
    const text = await (await app.request("/metrics", { headers: auth })).text();
    expect(sample(text, "region_search_ingest_jobs_total", { outcome: "failed" })).toBe(1);
    expect(sample(text, "region_search_ingest_dead_letters_total", {})).toBe(1);
    const h = "region_search_http_request_duration_seconds_count";
    expect(sample(text, h, { route: INGEST_JOB_PATH, status: "503" })).toBe(1);
  });
});

describe("METRICS_TOKEN and the bearer check", () => {
  it("is optional, at least 16 characters when set", () => {
    expect(parseEnv({}).METRICS_TOKEN).toBeUndefined();
    expect(parseEnv({ METRICS_TOKEN: TOKEN }).METRICS_TOKEN).toBe(TOKEN);
    expect(() => parseEnv({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN/);
  });
  it("accepts only the exact token", () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
  });
});
