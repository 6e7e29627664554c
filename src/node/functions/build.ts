/**
 * Builds the function apps from a parsed environment and what the composition root opened. The
 * single-function entries (functions/ingest.ts, functions/query.ts) and the one-process host of both
 * (functions/ingest-query.ts) call these, so the apps cannot differ between the two deployments.
 */
import { imageLimits } from "../../lib/env-fields.js";
import { urlFetchSettings } from "../../lib/url-fetch/env.js";
import { openUrlFetcher, type Composed } from "../compose.js";
import type { Logger } from "../logging.js";
import type { Metrics } from "../metrics/registry.js";
import { SharpRenderer } from "../render/sharp-renderer.js";
import type { FunctionEnv } from "./env.js";
import { createIngestFunction } from "./ingest/app.js";
import { createQueryFunction } from "./query/app.js";
import type { FunctionApp } from "./types.js";

export interface BuiltApp {
  app: FunctionApp;
  close?: () => Promise<void>;
}

/** `metrics` (when METRICS_TOKEN is set) serves `GET /metrics` behind that token. */
function metricsOption(env: FunctionEnv, metrics?: Metrics) {
  return metrics ? { metrics: { metrics, token: env.METRICS_TOKEN } } : {};
}

export function buildIngestApp(
  env: FunctionEnv,
  composed: Composed,
  log: Logger,
  metrics?: Metrics,
): BuiltApp {
  const { catalog, blobs, vectors, models } = composed;
  const { app } = createIngestFunction({ catalog, blobs, vectors }, models.extractor, {
    secrets: env.WEBHOOK_SECRET,
    limits: imageLimits(env),
    log,
    reconcileTimes: { settleMs: env.STORAGE_EVENT_SETTLE_MS },
    ...metricsOption(env, metrics),
  });
  return { app };
}

export function buildQueryApp(
  env: FunctionEnv,
  composed: Composed,
  log: Logger,
  metrics?: Metrics,
): BuiltApp {
  const urlFetcher = openUrlFetcher(urlFetchSettings(env));
  const app = createQueryFunction(
    {
      text: composed.models.text,
      vectors: composed.vectors,
      renderer: new SharpRenderer(),
      ...(urlFetcher ? { urlFetcher } : {}),
    },
    // Preview renders carry the image (base64, +33%).
    {
      secrets: env.WEBHOOK_SECRET,
      maxBodyBytes: Math.ceil(env.MAX_UPLOAD_BYTES * 1.4) + 64 * 1024,
      maxFetchBytes: env.MAX_UPLOAD_BYTES,
      log,
      ...metricsOption(env, metrics),
    },
  );
  return { app, ...(urlFetcher ? { close: () => urlFetcher.close() } : {}) };
}
