/**
 * Structured logs (pino): one JSON line per event, each request's line carrying its request id.
 * `apiLogger` adapts pino to the API's logging hook; `jobLogger` logs each job attempt.
 */
import pino, { type Logger } from "pino";
import type { ApiLogger } from "../lib/api/app.js";
import type { JobEvent } from "./jobs/in-process-queue.js";

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service: "region-search" }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}

export function apiLogger(log: Logger): ApiLogger {
  return {
    request: (event) => {
      const level = event.status >= 500 ? "error" : event.status >= 400 ? "warn" : "info";
      log[level]({ event: "request", ...event }, "request");
    },
    error: (err, event) =>
      log.error({ event: "unhandled_error", err, ...event }, "unhandled error"),
  };
}

export function logJobEvent(log: Logger, e: JobEvent): void {
  const base = {
    event: "ingest",
    tenant: e.job.tenant,
    imageId: e.job.imageId,
    attempt: e.attempt,
    ms: Math.round(e.ms),
  };
  const o = e.outcome;
  if (o.status === "indexed")
    log.info(
      { ...base, status: o.status, regions: o.regionCount, timings: o.timings },
      "ingest done",
    );
  else if (o.status === "skipped")
    log.info({ ...base, status: o.status, reason: o.reason }, "ingest skipped");
  else
    log.warn(
      {
        ...base,
        status: o.status,
        retry: o.retry,
        retryInMs: e.retryInMs,
        error: o.error,
        errorCode: o.errorCode,
      },
      "ingest failed",
    );
}
