/**
 * The query function: the model- and store-backed services the gateway's public API calls over
 * signed HTTP — text embedding, vector-store operations, PNG rendering, and fetching images by URL
 * (pinned here; a Worker cannot pin). The public routes
 * themselves stay in src/lib/api and run in the gateway (written once).
 */
import type { Logger } from "../../logging.js";
import { createFunctionApp, type FunctionMetrics } from "../app.js";
import type { FunctionApp, QueryFunctionDeps } from "../types.js";
import { registerEmbed } from "./embed.js";
import { registerFetchUrl } from "./fetch-url.js";
import { registerRender } from "./render.js";
import { registerVectors } from "./vectors.js";

export interface QueryFunctionOptions {
  secrets: readonly string[];
  /** Largest signed request (preview renders carry the image, base64). */
  maxBodyBytes: number;
  /** Largest image fetched by URL (MAX_UPLOAD_BYTES), whatever the gateway asks for. */
  maxFetchBytes: number;
  log?: Logger;
  metrics?: FunctionMetrics;
}

export function createQueryFunction(
  deps: QueryFunctionDeps,
  options: QueryFunctionOptions,
): FunctionApp {
  const app = createFunctionApp({
    name: "query",
    secrets: options.secrets,
    maxBodyBytes: options.maxBodyBytes,
    log: options.log,
    // Vector writes and deletes must not run twice (a replayed delete after a re-upload would
    // remove the new regions); reads gain nothing from a replay either.
    refuseReplays: true,
    metrics: options.metrics,
  });
  registerEmbed(app, deps);
  registerVectors(app, deps);
  registerRender(app, deps);
  registerFetchUrl(app, deps, options.maxFetchBytes);
  return app;
}
