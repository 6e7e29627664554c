/**
 * The edge gateway: the public API of src/lib/api (the same `createApp` the local server runs),
 * with its services bound to Workers:
 * - catalog and blobs: R2 (one bucket, `catalog/` and `images/` prefixes);
 * - jobs: a Queue producer (the consumer in consumer.ts calls the ingest function);
 * - text embedding, vector store, PNG rendering, fetching images by URL: signed HTTP clients of the
 *   query function (a Worker cannot pin a fetch to a checked address; the query function does);
 * - tenants: hashed API keys in KV, rate-limited per key.
 * Plus `/internal/objects`, the signed object endpoint the Node functions may use instead of S3.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createApp } from "../lib/api/app.js";
import type { AppEnv } from "../lib/api/context.js";
import {
  INTERNAL_PREFIX,
  ObjectBlobStore,
  ObjectCatalog,
  objectRpcApp,
} from "../lib/objects/index.js";
import { RemoteRenderer } from "../lib/remote/renderer.js";
import { RemoteTextEmbedder } from "../lib/remote/text.js";
import { RemoteUrlFetcher } from "../lib/remote/url-fetch.js";
import { RemoteVectorStore } from "../lib/remote/vectors.js";
import type { Services } from "../lib/services.js";
import { imageLimits } from "../lib/env-fields.js";
import { SignedClient } from "../lib/webhooks/client.js";
import { MemoryReplayLedger } from "../lib/webhooks/replay.js";
import { kvApiKeyResolver } from "./api-keys.js";
import { PAGE_FILE_TEXT } from "./page-files.js";
import type { GatewayConfig } from "./env.js";
import { QueueJobQueue } from "./queue-jobs.js";
import { R2ObjectStore } from "./r2-objects.js";
import { integrityVerifier } from "../lib/integrity/index.js";
import { DEFAULT_URL_POLICY } from "../lib/url-fetch/policy.js";

export function createGateway(config: GatewayConfig): OpenAPIHono<AppEnv> {
  const { bindings, vars } = config;
  const objects = new R2ObjectStore(bindings.IMAGES);
  const query = new SignedClient({
    baseUrl: vars.QUERY_URL,
    secrets: vars.WEBHOOK_SECRET,
    timeoutMs: vars.FUNCTION_TIMEOUT_MS,
  });
  const services: Services = {
    catalog: new ObjectCatalog(objects),
    blobs: new ObjectBlobStore(objects),
    jobs: new QueueJobQueue(bindings.INGEST_QUEUE),
    vectors: new RemoteVectorStore(query),
    text: new RemoteTextEmbedder(query, vars.MODEL_PACK_ID),
    renderer: new RemoteRenderer(query),
    // Truncated or corrupt uploads → 422 before anything is stored (no decoder here: a structural check).
    verifier: integrityVerifier,
    ...urlFetcher(vars, query),
  };
  const app = createApp(services, {
    limits: imageLimits(vars),
    resolveTenant: kvApiKeyResolver({
      keys: bindings.API_KEYS,
      limiter: bindings.RATE_LIMITER,
      retryAfterSec: vars.RATE_LIMIT_PERIOD_SEC,
    }),
    logger: {
      request: (e) => console.log(JSON.stringify({ event: "request", ...e })),
      error: (err, e) =>
        console.error(JSON.stringify({ event: "unhandled_error", error: String(err), ...e })),
    },
    page: PAGE_FILE_TEXT,
  });
  // A replayed object write would restore an older record or image: refused per isolate (replay.ts).
  const replays = new MemoryReplayLedger();
  app.route(
    INTERNAL_PREFIX,
    objectRpcApp(objects, vars.WEBHOOK_SECRET, vars.MAX_UPLOAD_BYTES, replays),
  );
  return app;
}

/** `{urlFetcher}` unless URL_FETCH_ENABLED=false, which makes `POST /v1/images {url}` answer 501. */
function urlFetcher(
  vars: GatewayConfig["vars"],
  query: SignedClient,
): Pick<Services, "urlFetcher"> {
  if (!vars.URL_FETCH_ENABLED) return {};
  return {
    urlFetcher: new RemoteUrlFetcher(query, {
      ...DEFAULT_URL_POLICY,
      allowedPorts: vars.URL_FETCH_ALLOWED_PORTS,
    }),
  };
}
