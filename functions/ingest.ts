/**
 * The ingest function: signed ingest jobs (from the gateway's queue consumer) and signed storage
 * event notifications → `processIngestJob`. A container runs it as an HTTP server
 * (`node --import tsx functions/ingest.ts`); AWS Lambda calls the exported `handler`.
 * The environment is parsed here, once (src/node/functions/env.ts documents every variable); the
 * composition root (src/node/compose.ts) opens the pack, checks the index and opens the storage.
 */
import { composeNode } from "../src/node/compose.js";
import { buildIngestApp } from "../src/node/functions/build.js";
import { parseFunctionEnv } from "../src/node/functions/env.js";
import { isMain, lambdaHandler, serveHttp, type AppFactory } from "../src/node/functions/serve.js";
import { createLogger } from "../src/node/logging.js";
import { Metrics } from "../src/node/metrics/registry.js";

const env = parseFunctionEnv(process.env);
const log = createLogger(env.LOG_LEVEL);
const metrics = env.METRICS_TOKEN ? new Metrics() : undefined;

const build: AppFactory = async () => {
  const composed = await composeNode(env, log, metrics);
  return { app: buildIngestApp(env, composed, log, metrics).app, close: composed.close };
};

export const handler = lambdaHandler(build);

if (isMain(import.meta.url)) {
  serveHttp(build, { port: env.PORT, hostname: env.HOST }, log, "ingest").catch((err: unknown) => {
    log.fatal({ err }, "ingest function failed to start");
    process.exit(1);
  });
}
