/**
 * `--embedded`: the CLI builds the same services `npm start` builds (disk catalog and blobs, LanceDB,
 * in-process queue, the model pack — through the same composition root, src/node/compose.ts) in its
 * own process and talks to the app without a socket. Do not point it at a DATA_DIR a running server
 * is using: both would write the same store.
 */
import { openCheckedModels } from "../compose.js";
import { createLogger } from "../logging.js";
import { buildLocalServer } from "../server/build.js";
import { localServerSettings, type Env } from "../server/env.js";
import type { FetchLike } from "./client.js";

export const EMBEDDED_URL = "http://embedded.local";

export async function openEmbedded(
  env: Env,
): Promise<{ fetch: FetchLike; close(): Promise<void> }> {
  // Job logs would tear through the progress bar: only errors, unless LOG_LEVEL asks for more (or less).
  const log = createLogger(env.LOG_LEVEL === "info" ? "error" : env.LOG_LEVEL, process.stderr);
  const models = await openCheckedModels(env, log);
  const server = await buildLocalServer(
    localServerSettings(env, models.pack.vectorDim),
    models,
    log,
  );
  return {
    fetch: async (request) => server.app.request(request),
    close: async () => {
      await server.close();
      await models.release();
    },
  };
}
