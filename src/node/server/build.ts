/**
 * Builds the embedded default's services from parsed settings: disk catalog and blobs, LanceDB
 * vectors, the in-process queue running `processIngestJob`, the sharp renderer. The models are
 * passed in, so tests and benchmarks can build the same server with other models.
 */
import path from "node:path";
import { createApp } from "../../lib/api/app.js";
import { processIngestJob } from "../../lib/ingest.js";
import type { Limits } from "../../lib/limits.js";
import type { RegionExtractor, Services, TextEmbedder } from "../../lib/services.js";
import { DiskBlobStore } from "../blobs/disk-blobs.js";
import { FileCatalog } from "../catalog/file-catalog.js";
import { InProcessJobQueue } from "../jobs/in-process-queue.js";
import { apiLogger, logJobEvent, type Logger } from "../logging.js";
import { SharpRenderer } from "../render/sharp-renderer.js";
import { LanceVectorStore } from "../store/lance.js";

export interface LocalServerSettings {
  dataDir: string;
  limits: Partial<Limits>;
  apiKeys: Record<string, string>;
  ingest: { concurrency: number; maxAttempts: number; backoffMs: number };
  vectorIndexThreshold: number;
}

export async function buildLocalServer(
  settings: LocalServerSettings,
  models: { extractor: RegionExtractor; text: TextEmbedder },
  log: Logger,
) {
  const catalog = new FileCatalog(settings.dataDir);
  const blobs = new DiskBlobStore(settings.dataDir);
  const vectors = await LanceVectorStore.open({
    dir: path.join(settings.dataDir, "vectors"),
    indexThreshold: settings.vectorIndexThreshold,
  });
  const jobs = new InProcessJobQueue({
    handler: (job, attempt) => processIngestJob({ catalog, blobs, vectors, extractor: models.extractor }, job, attempt),
    ...settings.ingest,
    onEvent: (e) => logJobEvent(log, e),
  });
  const services: Services = { catalog, blobs, vectors, jobs, text: models.text, renderer: new SharpRenderer() };
  const app = createApp(services, { limits: settings.limits, apiKeys: settings.apiKeys, logger: apiLogger(log) });
  const recovered = await jobs.recover(catalog);
  if (recovered > 0) log.info({ event: "recovered_jobs", count: recovered }, "re-enqueued unfinished images");
  const close = async () => {
    await jobs.close();
    await vectors.close();
  };
  return { app, services, jobs, vectors, close };
}
