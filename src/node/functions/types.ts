/**
 * Types the function apps and their route files share. They live apart from app.ts, ingest/app.ts
 * and query/app.ts, which register the routes: a route file that imported its types from the file
 * registering it would make an import loop.
 */
import type { Hono } from "hono";
import type { IngestAttempt, IngestOutcome } from "../../lib/ingest.js";
import type { Limits } from "../../lib/limits.js";
import type {
  BlobStore,
  ImageCatalog,
  IngestJob,
  RegionExtractor,
  Renderer,
  TextEmbedder,
  UrlFetcher,
} from "../../lib/services.js";
import type { VectorStore } from "../../lib/store/types.js";
import type { SignedEnv } from "../../lib/webhooks/middleware.js";
import type { ReconcileTimes } from "../../lib/webhooks/storage-reconcile.js";
import type { IdempotencyCache } from "./idempotency.js";
import type { KeyOrder } from "../../lib/webhooks/key-order.js";

export type FunctionApp = Hono<SignedEnv>;

/** A function's storage, as the composition root (src/node/compose.ts) opens it. */
export interface FunctionStorage {
  catalog: ImageCatalog;
  blobs: BlobStore;
  vectors: VectorStore;
}

export interface IngestFunctionDeps extends FunctionStorage {
  extractor: RegionExtractor;
  limits: Limits;
  ingest(job: IngestJob, attempt: IngestAttempt): Promise<IngestOutcome>;
  idempotency: IdempotencyCache<IngestOutcome>;
  keyOrder: KeyOrder;
  reconcileTimes: ReconcileTimes;
}

export interface QueryFunctionDeps {
  text: TextEmbedder;
  vectors: VectorStore;
  renderer: Renderer;
  /** The pinned Node fetcher; without it (URL_FETCH_ENABLED=false) `/rpc/fetch-url` answers 501. */
  urlFetcher?: UrlFetcher;
}
