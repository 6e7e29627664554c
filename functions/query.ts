/**
 * The query function: text embedding, vector-store operations, PNG rendering and fetching images by
 * URL (addresses pinned) for the gateway's public API, over signed requests. A container runs it as
 * an HTTP server (`node --import tsx functions/query.ts`); AWS Lambda calls the exported `handler`.
 * The environment is parsed here, once (src/node/functions/env.ts documents every variable).
 */
import { buildFunctionBackends, loadFunctionModels } from "../src/node/functions/entry.js";
import { parseFunctionEnv } from "../src/node/functions/env.js";
import { checkFunctionIndex } from "../src/node/functions/index-check.js";
import { createQueryFunction } from "../src/node/functions/query/app.js";
import { isMain, lambdaHandler, serveHttp, type AppFactory } from "../src/node/functions/serve.js";
import { urlFetchSettings } from "../src/lib/url-fetch/env.js";
import { createLogger } from "../src/node/logging.js";
import { SharpRenderer } from "../src/node/render/sharp-renderer.js";
import { createNodeUrlFetcher } from "../src/node/url-fetch.js";

const env = parseFunctionEnv(process.env);
const log = createLogger(env.LOG_LEVEL);

const build: AppFactory = async () => {
  const models = await loadFunctionModels(env);
  // An index of another pack or layout fails start-up with the command that fixes it (docs/reindex.md).
  await checkFunctionIndex(env, process.env, models, log).catch(async (err: unknown) => {
    await models.release();
    throw err;
  });
  const { vectors } = await buildFunctionBackends(env, process.env, models.pack.vectorDim);
  const urlFetch = urlFetchSettings(env);
  const urlFetcher = urlFetch.enabled ? createNodeUrlFetcher(urlFetch) : undefined;
  const app = createQueryFunction(
    { text: models.text, vectors, renderer: new SharpRenderer(), ...(urlFetcher ? { urlFetcher } : {}) },
    // Preview renders carry the image (base64, +33%).
    { secrets: env.WEBHOOK_SECRET, maxBodyBytes: Math.ceil(env.MAX_UPLOAD_BYTES * 1.4) + 64 * 1024, maxFetchBytes: env.MAX_UPLOAD_BYTES, log },
  );
  return { app, close: async () => { await urlFetcher?.close(); await vectors.close?.(); await models.pack.release(); } };
};

export const handler = lambdaHandler(build);

if (isMain(import.meta.url)) {
  serveHttp(build, { port: env.PORT, hostname: env.HOST }, log, "query").catch((err: unknown) => {
    log.fatal({ err }, "query function failed to start");
    process.exit(1);
  });
}
