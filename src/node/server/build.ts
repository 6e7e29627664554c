/**
 * Builds the local server's services from parsed settings: disk catalog and blobs and the vector
 * store (LanceDB under DATA_DIR by default, or Qdrant), opened by the composition root
 * (src/node/compose.ts); the in-process queue running `processIngestJob`; the sharp renderer. The
 * models are passed in, so tests and benchmarks can build the same server with other models.
 */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { createApp } from "../../lib/api/app.js";
import type { MetadataIndex } from "../../lib/store/qdrant/metadata.js";
import { processIngestJob } from "../../lib/ingest.js";
import type { Limits } from "../../lib/limits.js";
import type {
  ExampleEmbedder,
  RegionExtractor,
  Services,
  TextEmbedder,
  UploadPrefetch,
} from "../../lib/services.js";
import type { UrlFetchSettings } from "../../lib/url-fetch/env.js";
import { openObjects, openUrlFetcher, openVectorStore } from "../compose.js";
import { decodingVerifier } from "../imaging/index.js";
import { InProcessJobQueue } from "../jobs/in-process-queue.js";
import { apiLogger, logJobEvent, type Logger } from "../logging.js";
import { instrumentApp } from "../metrics/http.js";
import { Metrics } from "../metrics/registry.js";
import { meteredExamples, meteredText } from "../metrics/wrap.js";
import { SharpRenderer } from "../render/sharp-renderer.js";
import type { VectorStoreSettings } from "../storage-env.js";
import type { NodeUrlFetcherOptions } from "../url-fetch.js";
import { readPageFiles } from "./page-files.js";

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
  /** Declared metadata keys (`METADATA_INDEXES`): Qdrant payload indexes, the page's filters. */
  metadataFields?: readonly MetadataIndex[];
  /** `GET /metrics` behind this bearer token, and the metrics behind it; none when absent. */
  metricsToken?: string | undefined;
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
  models: {
    extractor: RegionExtractor;
    text: TextEmbedder;
    prefetch?: UploadPrefetch;
    examples?: ExampleEmbedder;
  },
  log: Logger,
) {
  const { prefetch } = models;
  const metrics = settings.metricsToken ? new Metrics() : undefined;
  // The local server keeps its objects on disk; the stores open through the composition root.
  const { catalog, blobs } = openObjects({ kind: "disk", dataDir: settings.dataDir });
  const vectors = await openVectorStore(
    settings.vectorStore ?? { kind: "embedded" },
    { dataDir: settings.dataDir, indexThreshold: settings.vectorIndexThreshold },
    log,
    metrics,
  );
  const jobs = new InProcessJobQueue({
    handler: (job, attempt) =>
      processIngestJob(
        { catalog, blobs, vectors, extractor: models.extractor, prefetch },
        job,
        attempt,
      ),
    ...settings.ingest,
    onEvent: (e) => {
      logJobEvent(log, e);
      metrics?.observeIngest(e.outcome);
    },
  });
  metrics?.gauge(
    "region_search_queue_depth",
    "Ingest jobs waiting, running or backing off",
    () => jobs.size,
  );
  const urlFetcher = openUrlFetcher(settings.urlFetch);
  // The upload check: the prefetch's decode, kept for the job (one decode per upload), or a decode only.
  const check = prefetch ? { prefetch } : { verifier: decodingVerifier };
  const services: Services = {
    catalog,
    blobs,
    vectors,
    jobs,
    text: metrics ? meteredText(models.text, metrics) : models.text,
    renderer: new SharpRenderer(),
    ...check,
    ...(urlFetcher ? { urlFetcher } : {}),
    ...(models.examples
      ? { examples: metrics ? meteredExamples(models.examples, metrics) : models.examples }
      : {}),
  };
  const rateLimit = settings.rateLimit && { ...settings.rateLimit, clientAddress: socketAddress };
  const app = createApp(services, {
    limits: settings.limits,
    apiKeys: settings.apiKeys,
    rateLimit,
    logger: apiLogger(log),
    page: readPageFiles(),
    ...(settings.metadataFields ? { metadataFields: settings.metadataFields } : {}),
    ...(metrics ? { instrument: (a) => instrumentApp(a, metrics, settings.metricsToken) } : {}),
  });
  const recovered = await jobs.recover(catalog);
  if (recovered > 0)
    log.info({ event: "recovered_jobs", count: recovered }, "re-enqueued unfinished images");
  const close = async () => {
    await jobs.close();
    await urlFetcher?.close();
    await vectors.close?.();
  };
  return { app, services, jobs, vectors, close };
}
