/**
 * The Prometheus metrics of the Node entries (prom-client), one registry per process: the local
 * server (`npm start`) and the ingest and query functions register the same names, so one set of
 * dashboards and alerts (RELIABILITY.md, "Metrics and alerts") fits every deployment.
 *
 * Names follow Prometheus' conventions: `region_search_` prefix, base units (seconds), `_total`
 * counters. Labels are bounded: routes are Hono's route patterns (`/v1/images/:id`), never raw paths.
 */
import client from "prom-client";
import type { IngestOutcome } from "../../lib/ingest.js";

/** Model stages in an extraction's `timings` → the model session that ran them. */
const MODEL_STAGES: Record<string, string> = {
  encoder: "segmenter_encoder",
  decoder: "segmenter_decoder",
  embed: "alpha_clip_image",
  detail: "clip_image",
};

const SECONDS_FAST = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_SLOW = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface MetricsOptions {
  /** prom-client's process metrics (CPU, memory, event-loop lag, GC); default true. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new client.Registry();
  readonly requestSeconds = new client.Histogram({
    name: "region_search_http_request_duration_seconds",
    help: "HTTP requests by route pattern, method and status: time to the answer's headers",
    labelNames: ["route", "method", "status"] as const,
    buckets: SECONDS_FAST,
    registers: [this.registry],
  });
  readonly ingestStageSeconds = new client.Histogram({
    name: "region_search_ingest_stage_duration_seconds",
    help: "Ingest extraction stages (decode, encoder, decoder, filter, embed, detail, total, …) of indexed images",
    labelNames: ["stage"] as const,
    buckets: SECONDS_SLOW,
    registers: [this.registry],
  });
  readonly ingestJobs = new client.Counter({
    name: "region_search_ingest_jobs_total",
    help: "Ingest job attempts by outcome: indexed, retry (failed, will retry), failed (dead letter), skipped",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new client.Counter({
    name: "region_search_ingest_dead_letters_total",
    help: "Images whose ingest failed for good (status failed: retries exhausted or bad input)",
    registers: [this.registry],
  });
  readonly vectorStoreSeconds = new client.Histogram({
    name: "region_search_vector_store_call_duration_seconds",
    help: "Vector-store calls by operation, failed ones included",
    labelNames: ["op"] as const,
    buckets: SECONDS_FAST,
    registers: [this.registry],
  });
  readonly vectorStoreErrors = new client.Counter({
    name: "region_search_vector_store_errors_total",
    help: "Vector-store calls that threw, by operation",
    labelNames: ["op"] as const,
    registers: [this.registry],
  });
  readonly modelSeconds = new client.Histogram({
    name: "region_search_model_session_duration_seconds",
    help: "Model session time by model (segmenter_encoder, segmenter_decoder, alpha_clip_image, clip_image, text) and use (ingest, query, example)",
    labelNames: ["model", "use"] as const,
    buckets: SECONDS_SLOW,
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    if (options.processMetrics ?? true)
      client.collectDefaultMetrics({ register: this.registry, prefix: "region_search_" });
  }

  /** A gauge read when scraped (the queue's depth, say). */
  gauge(name: string, help: string, read: () => number): void {
    new client.Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Stage and model times of one extraction (`ExtractedImage.timings`, milliseconds). */
  observeExtraction(timings: Record<string, number>, use: "ingest" | "example"): void {
    for (const [stage, ms] of Object.entries(timings)) {
      if (use === "ingest") this.ingestStageSeconds.observe({ stage }, ms / 1000);
      const model = MODEL_STAGES[stage];
      if (model) this.modelSeconds.observe({ model, use }, ms / 1000);
    }
  }

  /** One ingest attempt's outcome. */
  observeIngest(outcome: IngestOutcome): void {
    if (outcome.status === "indexed") this.observeExtraction(outcome.timings, "ingest");
    const label = outcome.status === "failed" && outcome.retry ? "retry" : outcome.status;
    this.ingestJobs.inc({ outcome: label });
    if (outcome.status === "failed" && !outcome.retry) this.deadLetters.inc();
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
