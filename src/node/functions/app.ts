/**
 * What both Node functions share: the one app shell (src/lib/api/shell.ts: request ids, the one error
 * body `{error:{code,message,requestId}}`, request logs), `GET /healthz`, and the signature check on
 * every other route.
 */
import { Hono } from "hono";
import { applyShell, type ApiLogger } from "../../lib/api/shell.js";
import { verifySignature, type SignedEnv } from "../../lib/webhooks/middleware.js";
import { MemoryReplayLedger } from "../../lib/webhooks/replay.js";
import type { Logger } from "../logging.js";
import { instrumentApp } from "../metrics/http.js";
import type { Metrics } from "../metrics/registry.js";
import type { FunctionApp } from "./types.js";

export interface FunctionAppOptions {
  name: string;
  /** `whsec_…`; the first signs, all verify. */
  secrets: readonly string[];
  /** Largest signed body accepted. */
  maxBodyBytes: number;
  /**
   * Refuse replayed message ids (409): routes whose effect would repeat. Off where redeliveries of one
   * id are expected and answered from a record (the ingest function's queue deliveries).
   */
  refuseReplays?: boolean;
  log?: Logger | undefined;
  /** Request timing and `GET /metrics` (with `token`), as on the local server (src/node/metrics). */
  metrics?: FunctionMetrics | undefined;
}

export interface FunctionMetrics {
  metrics: Metrics;
  token?: string | undefined;
}

export function createFunctionApp(options: FunctionAppOptions): FunctionApp {
  const app = new Hono<SignedEnv>();
  applyShell(app, {
    ...(options.log ? { logger: functionLogger(options.log, options.name) } : {}),
    annotate: (c) => {
      const id = c.get("webhook")?.id;
      return id ? { webhookId: id } : {};
    },
  });
  // Before the signature check: Prometheus scrapes with the metrics token, not a signature.
  if (options.metrics) instrumentApp(app, options.metrics.metrics, options.metrics.token);
  app.get("/healthz", (c) => c.json({ status: "ok", function: options.name }));
  app.use(
    "*",
    verifySignature(options.secrets, {
      maxBytes: options.maxBodyBytes,
      ...(options.refuseReplays ? { replays: new MemoryReplayLedger() } : {}),
    }),
  );
  return app;
}

/**
 * Every line names the function (both may log to one place). Request lines stay at info whatever
 * the status: a refused signature or a caller's slow URL is no fault here; crashes log as errors.
 */
function functionLogger(log: Logger, fn: string): ApiLogger {
  return {
    request: (event) => log.info({ event: "request", fn, ...event }, "request"),
    error: (err, event) =>
      log.error({ event: "unhandled_error", fn, err, ...event }, "unhandled error"),
  };
}
