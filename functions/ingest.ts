/**
 * The ingest function: signed ingest jobs (from the gateway's queue consumer) and signed storage
 * event notifications → `processIngestJob`. A container runs it as an HTTP server
 * (`node --import tsx functions/ingest.ts`); AWS Lambda calls the exported `handler`.
 * The environment is parsed here, once (src/node/functions/env.ts documents every variable).
 */
import { createIngestFunction } from "../src/node/functions/ingest/app.js";
import { buildFunctionBackends, limitsFromEnv, loadFunctionModels } from "../src/node/functions/entry.js";
import { parseFunctionEnv } from "../src/node/functions/env.js";
import { checkFunctionIndex } from "../src/node/functions/index-check.js";
import { isMain, lambdaHandler, serveHttp, type AppFactory } from "../src/node/functions/serve.js";
import { createLogger } from "../src/node/logging.js";

const env = parseFunctionEnv(process.env);
const log = createLogger(env.LOG_LEVEL);

const build: AppFactory = async () => {
  const models = await loadFunctionModels(env);
  // An index of another pack or layout fails start-up with the command that fixes it (docs/reindex.md).
  await checkFunctionIndex(env, process.env, models, log).catch(async (err: unknown) => {
    await models.release();
    throw err;
  });
  const backends = await buildFunctionBackends(env, process.env, models.pack.vectorDim);
  const { app } = createIngestFunction(backends, models.extractor, { secrets: env.WEBHOOK_SECRET, limits: limitsFromEnv(env), log });
  return { app, close: async () => { await backends.vectors.close?.(); await models.pack.release(); } };
};

export const handler = lambdaHandler(build);

if (isMain(import.meta.url)) {
  serveHttp(build, { port: env.PORT, hostname: env.HOST }, log, "ingest").catch((err: unknown) => {
    log.fatal({ err }, "ingest function failed to start");
    process.exit(1);
  });
}
