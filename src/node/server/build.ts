/**
 * Builds the local server's services from parsed settings: disk catalog and blobs, the vector store
 * (LanceDB under DATA_DIR by default, or Qdrant), the in-process queue running `processIngestJob`,
 * the sharp renderer. The models are passed in, so tests and benchmarks can build the same server
 * with other models.
 */
import path from "node:path";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { createApp } from "../../lib/api/app.js";
import { processIngestJob } from "../../lib/ingest.js";
import type { Limits } from "../../lib/limits.js";
import type { RegionExtractor, Services, TextEmbedder, UploadPrefetch } from "../../lib/services.js";
import { createQdrantStore, type QdrantStoreOptions } from "../../lib/store/qdrant/index.js";
import type { VectorStore } from "../../lib/store/types.js";
import { DiskBlobStore } from "../blobs/disk-blobs.js";
import { FileCatalog } from "../catalog/file-catalog.js";
import { InProcessJobQueue } from "../jobs/in-process-queue.js";
import { apiLogger, logJobEvent, type Logger } from "../logging.js";
import { decodingVerifier } from "../imaging/index.js";
import { SharpRenderer } from "../render/sharp-renderer.js";
import { LanceVectorStore } from "../store/lance.js";
import { readPageFiles } from "./page-files.js";
import { createNodeUrlFetcher, type NodeUrlFetcherOptions } from "../url-fetch.js";
import type { UrlFetchSettings } from "../../lib/url-fetch/env.js";

export interface LocalServerSettings {
  dataDir: string;
  limits: Partial<Limits>;
  apiKeys: Record<string, string>;
  /** Per-caller requests per minute (0 = off) and burst. */
  rateLimit?: { perMinute: number; burst?: number };
  ingest: { concurrency: number; maxAttempts: number; backoffMs: number };
  vectorIndexThreshold: number;
  /** Which vector store; the embedded one (DATA_DIR/vectors) when absent. */
  vectorStore?: VectorStoreSettings;
  /** `POST /v1/images {url}`; 501 when absent or disabled. Tests may add a resolver and address rule here, in code. */
  urlFetch?: UrlFetchSettings & Pick<NodeUrlFetcherOptions, "resolve" | "isAllowedAddress">;
}

/** `embedded`: LanceDB under DATA_DIR/vectors. `qdrant`: options carry the model pack's dimension. */
export type VectorStoreSettings = { kind: "embedded" } | { kind: "qdrant"; options: QdrantStoreOptions };

/**
 * Opens the chosen store. Qdrant's bootstrap runs here, so a collection that cannot hold this pack's
 * vectors fails start-up with `CollectionMismatchError` before anything is served or re-enqueued.
 */
async function openVectorStore(settings: LocalServerSettings, log: Logger): Promise<VectorStore> {
  if (settings.vectorStore?.kind !== "qdrant") {
    return LanceVectorStore.open({ dir: path.join(settings.dataDir, "vectors"), indexThreshold: settings.vectorIndexThreshold });
  }
  const { url, collection, dim } = settings.vectorStore.options;
  const store = await createQdrantStore(settings.vectorStore.options);
  log.info({ event: "vector_store", kind: "qdrant", url, collection, dim, ...store.bootstrap }, `Qdrant collection "${collection}" ready`);
  return store;
}

/**
 * The peer address of the request's socket. X-Forwarded-For is not trusted (any client can send it);
 * behind a proxy, use API keys so the limit is per tenant. Undefined for in-process requests.
 */
function socketAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

export async function buildLocalServer(
  settings: LocalServerSettings,
  models: { extractor: RegionExtractor; text: TextEmbedder; prefetch?: UploadPrefetch },
  log: Logger,
) {
  const { prefetch } = models;
  const catalog = new FileCatalog(settings.dataDir);
  const blobs = new DiskBlobStore(settings.dataDir);
  const vectors = await openVectorStore(settings, log);
  const jobs = new InProcessJobQueue({
    handler: (job, attempt) => processIngestJob({ catalog, blobs, vectors, extractor: models.extractor, prefetch }, job, attempt),
    ...settings.ingest,
    onEvent: (e) => logJobEvent(log, e),
  });
  const urlFetcher = settings.urlFetch?.enabled ? createNodeUrlFetcher(settings.urlFetch) : undefined;
  // The upload check: the prefetch's decode, kept for the job (one decode per upload), or a decode only.
  const check = prefetch ? { prefetch } : { verifier: decodingVerifier };
  const services: Services = {
    catalog, blobs, vectors, jobs, text: models.text, renderer: new SharpRenderer(), ...check, ...(urlFetcher ? { urlFetcher } : {}),
  };
  const rateLimit = settings.rateLimit && { ...settings.rateLimit, clientAddress: socketAddress };
  const app = createApp(services, { limits: settings.limits, apiKeys: settings.apiKeys, rateLimit, logger: apiLogger(log), page: readPageFiles() });
  const recovered = await jobs.recover(catalog);
  if (recovered > 0) log.info({ event: "recovered_jobs", count: recovered }, "re-enqueued unfinished images");
  const close = async () => {
    await jobs.close();
    await urlFetcher?.close();
    await vectors.close?.();
  };
  return { app, services, jobs, vectors, close };
}
