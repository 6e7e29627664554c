/**
 * `--embedded`: the CLI builds the same services `npm start` builds (disk catalog and blobs, LanceDB,
 * in-process queue, the model pack) in its own process and talks to the app without a socket. Do not
 * point it at a DATA_DIR a running server is using: both would write the same store.
 */
import type { Env } from "../server/env.js";
import { buildLocalServer } from "../server/build.js";
import { loadModels } from "../server/models.js";
import { createLogger } from "../logging.js";
import type { FetchLike } from "./client.js";

export const EMBEDDED_URL = "http://embedded.local";

export async function openEmbedded(env: Env): Promise<{ fetch: FetchLike; close(): Promise<void> }> {
  // Job logs would tear through the progress bar: only errors, unless LOG_LEVEL asks for more (or less).
  const log = createLogger(env.LOG_LEVEL === "info" ? "error" : env.LOG_LEVEL, process.stderr);
  const models = await loadModels({
    packDir: env.MODEL_PACK,
    session: { intraOpNumThreads: env.ORT_INTRA_OP_THREADS, interOpNumThreads: env.ORT_INTER_OP_THREADS },
    extractor: { limits: { maxBytes: env.MAX_UPLOAD_BYTES, maxPixels: env.MAX_PIXELS, maxSide: env.MAX_SIDE } },
  });
  const server = await buildLocalServer(
    {
      dataDir: env.DATA_DIR,
      limits: { maxUploadBytes: env.MAX_UPLOAD_BYTES, maxPixels: env.MAX_PIXELS, maxSide: env.MAX_SIDE, waitTimeoutMs: env.WAIT_TIMEOUT_MS },
      apiKeys: env.API_KEYS,
      ingest: { concurrency: env.INGEST_CONCURRENCY, maxAttempts: env.INGEST_MAX_ATTEMPTS, backoffMs: env.INGEST_BACKOFF_MS },
      vectorIndexThreshold: env.VECTOR_INDEX_THRESHOLD,
    },
    models,
    log,
  );
  return {
    fetch: async (url, init) => server.app.request(url, init),
    close: async () => {
      await server.close();
      await models.release();
    },
  };
}
