/**
 * `npm start`: the embedded default — the public API on one Node process, data under DATA_DIR, the
 * bundled model pack. The environment is parsed here, once; everything below gets plain values, and
 * the pack and the stores open through the composition root (src/node/compose.ts).
 */
import { serve } from "@hono/node-server";
import { CollectionMismatchError } from "../src/lib/store/qdrant/index.js";
import { openCheckedModels } from "../src/node/compose.js";
import { imageLimits } from "../src/lib/env-fields.js";
import { resolveLimits } from "../src/lib/limits.js";
import { apiLogger, createLogger, type Logger } from "../src/node/logging.js";
import { S3ObjectStore } from "../src/node/objects/s3.js";
import { buildLocalServer } from "../src/node/server/build.js";
import {
  localServerSettings,
  parseEnv,
  storageWebhookSettings,
  type Env,
} from "../src/node/server/env.js";
import { storageWebhookApp, withStorageWebhook } from "../src/node/server/storage-webhook.js";

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const log = createLogger(env.LOG_LEVEL);
  // The composition root (src/node/compose.ts): the pack, then the index check — an index of another
  // pack or layout fails here with the command that fixes it (docs/reindex.md).
  const models = await openCheckedModels(env, log);
  const server = await buildLocalServer(
    localServerSettings(env, models.pack.vectorDim),
    models,
    log,
  );
  const fetch = storageWebhook(env, server, models.extractor.pack, log) ?? server.app.fetch;
  const http = serve({ fetch, port: env.PORT, hostname: env.HOST }, (info) =>
    log.info(
      {
        event: "listening",
        port: info.port,
        dataDir: env.DATA_DIR,
        tenancy: Object.keys(env.API_KEYS).length ? "api-keys" : "single (default)",
      },
      `listening on http://localhost:${info.port}`,
    ),
  );

  // Graceful shutdown: stop accepting, let the running job finish, close the store, release models.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "shutdown", signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 30_000).unref();
    http.close(async () => {
      try {
        await server.close();
        await models.release();
      } finally {
        clearTimeout(force);
        process.exit(0);
      }
    });
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

/** `POST /v1/webhooks/storage` ahead of the API, when WEBHOOK_SECRET and S3_BUCKET are set. */
function storageWebhook(
  env: Env,
  server: Awaited<ReturnType<typeof buildLocalServer>>,
  pack: string,
  log: Logger,
) {
  const settings = storageWebhookSettings(env);
  if (!settings) return undefined;
  const webhook = storageWebhookApp({
    secrets: settings.secrets,
    bucket: new S3ObjectStore(settings.bucket),
    services: server.services,
    pack,
    limits: resolveLimits(imageLimits(env)),
    logger: apiLogger(log),
  });
  log.info(
    { event: "storage_webhook", bucket: settings.bucket.bucket },
    "storage webhook on POST /v1/webhooks/storage",
  );
  return withStorageWebhook(server.app, webhook);
}

main().catch((err: unknown) => {
  // An existing Qdrant collection that cannot hold this pack's vectors: say what to do, not where it broke.
  if (err instanceof CollectionMismatchError) {
    console.error(
      `cannot start: ${err.message} (see docs/qdrant.md, "Re-indexing to a new model pack")`,
    );
    process.exit(1);
  }
  console.error(err instanceof Error ? err.message : err);
  if (err instanceof Error && err.cause) console.error("cause:", err.cause);
  process.exit(1);
});
