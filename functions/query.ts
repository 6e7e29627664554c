/**
 * The query function: text embedding, vector-store operations, PNG rendering and fetching images by
 * URL (addresses pinned) for the gateway's public API, over signed requests. A container runs it as
 * an HTTP server (`node --import tsx functions/query.ts`); AWS Lambda calls the exported `handler`.
 * The environment is parsed here, once (src/node/functions/env.ts documents every variable); the
 * composition root (src/node/compose.ts) opens the pack, checks the index and opens the storage.
 */
import { composeNode } from "../src/node/compose.js";
import { buildQueryApp } from "../src/node/functions/build.js";
import { parseFunctionEnv } from "../src/node/functions/env.js";
import { isMain, lambdaHandler, serveHttp, type AppFactory } from "../src/node/functions/serve.js";
import { createLogger } from "../src/node/logging.js";
import { Metrics } from "../src/node/metrics/registry.js";

const env = parseFunctionEnv(process.env);
const log = createLogger(env.LOG_LEVEL);
const metrics = env.METRICS_TOKEN ? new Metrics() : undefined;

const build: AppFactory = async () => {
  const composed = await composeNode(env, log, metrics);
  const query = buildQueryApp(env, composed, log, metrics);
  return {
    app: query.app,
    close: async () => {
      await query.close?.();
      await composed.close();
    },
  };
};

export const handler = lambdaHandler(build);

if (isMain(import.meta.url)) {
  serveHttp(build, { port: env.PORT, hostname: env.HOST }, log, "query").catch((err: unknown) => {
    log.fatal({ err }, "query function failed to start");
    process.exit(1);
  });
}
