/**
 * Both Node functions in one process: the ingest app on PORT and the query app on QUERY_PORT
 * (default PORT + 1), over one composition — one model pack in memory and, above all, one embedded
 * vector store. LanceDB opened by two processes would not see each other's writes (each keeps its own
 * table handle), so a single host on the embedded store runs this entry; functions scaled apart use
 * Qdrant (docs/deploy.md). `npm run dev:serverless` starts it behind `wrangler dev`.
 */
import { composeNode } from "../src/node/compose.js";
import { buildIngestApp, buildQueryApp } from "../src/node/functions/build.js";
import { parseHostEnv } from "../src/node/functions/env.js";
import { serveApps } from "../src/node/functions/serve.js";
import { createLogger } from "../src/node/logging.js";
import { Metrics } from "../src/node/metrics/registry.js";

const env = parseHostEnv(process.env);
const log = createLogger(env.LOG_LEVEL);
// One registry for both apps: either port's /metrics shows the whole process.
const metrics = env.METRICS_TOKEN ? new Metrics() : undefined;

async function main(): Promise<void> {
  const composed = await composeNode(env, log, metrics);
  const ingest = buildIngestApp(env, composed, log, metrics);
  const query = buildQueryApp(env, composed, log, metrics);
  serveApps(
    [
      { name: "ingest", app: ingest.app, port: env.PORT },
      { name: "query", app: query.app, port: env.QUERY_PORT },
    ],
    env.HOST,
    log,
    async () => {
      await query.close?.();
      await composed.close();
    },
  );
}

main().catch((err: unknown) => {
  log.fatal({ err }, "functions failed to start");
  process.exit(1);
});
