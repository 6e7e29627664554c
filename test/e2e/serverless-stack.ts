/**
 * The serverless stack as `npm run dev:serverless` runs it, minus wrangler's CLI: the gateway Worker
 * bundled from wrangler.toml by `wrangler deploy --dry-run` and run in workerd (Miniflare: local R2,
 * Queues, KV, rate limiter), and both real Node functions in one child process
 * (functions/ingest-query.ts) with the bundled shapes-tiny pack, over real HTTP on loopback. Test
 * overrides: quick queue retries, a low rate limit, a producer to inject R2 event notifications into
 * the storage-events queue (Cloudflare sends those; workerd has no notifications), and a TCP fault
 * proxy in front of the ingest function.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { apiKeyKvKey, hashApiKey } from "../../src/edge/api-keys.js";
import { generateSecret } from "../../src/lib/webhooks/standard-webhooks.js";
import {
  startChild,
  stopChild,
  waitForHttp,
  type Child,
} from "../../src/node/functions/dev-stack/processes.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { bundleModules, dryRunBundle } from "../edge/worker.js";

export const STORAGE_EVENTS_PRODUCER = "STORAGE_EVENTS_TEST";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export interface ServerlessStackOptions {
  rateLimit: number;
  /** Queue deliveries per ingest job (wrangler.toml: 4); its `max_retries` is one less. */
  maxAttempts: number;
}

export async function startServerlessStack(o: ServerlessStackOptions) {
  const dir = await mkdtemp(path.join(tmpdir(), "rs-serverless-"));
  const secret = generateSecret();
  const [ingestPort, queryPort] = [await freePort(), await freePort()];
  const proxy = await FaultProxy.start(`http://127.0.0.1:${ingestPort}`);
  const script = await dryRunBundle(path.join(dir, "bundle"));
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const mf = new Miniflare({
    ...(workerOptions as object),
    modules: await bundleModules(script),
    modulesRoot: path.dirname(script),
    bindings: {
      ...workerOptions.bindings,
      INGEST_URL: proxy.url,
      QUERY_URL: `http://127.0.0.1:${queryPort}`,
      WEBHOOK_SECRET: secret,
      INGEST_MAX_ATTEMPTS: String(o.maxAttempts),
    },
    ratelimits: { RATE_LIMITER: { simple: { limit: o.rateLimit, period: 60 } } },
    queueProducers: {
      ...(workerOptions.queueProducers as Record<string, unknown>),
      [STORAGE_EVENTS_PRODUCER]: { queueName: "region-search-storage-events" },
    },
    queueConsumers: {
      ...(workerOptions.queueConsumers as object),
      "region-search-ingest": {
        maxBatchTimeout: 0.1,
        maxRetries: o.maxAttempts - 1,
        deadLetterQueue: "region-search-ingest-dlq",
      },
      "region-search-ingest-dlq": { maxBatchTimeout: 0.1 },
      "region-search-storage-events": { maxBatchTimeout: 0.1, maxRetries: 2 },
    },
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
      stdout.resume();
      stderr.resume();
    },
  } as ConstructorParameters<typeof Miniflare>[0]);
  const gatewayUrl = (await mf.ready).toString().replace(/\/$/, "");

  const lines: Record<string, unknown>[] = [];
  const functions: Child = startChild(
    "functions",
    process.execPath,
    ["--import", "tsx", "functions/ingest-query.ts"],
    {
      cwd: process.cwd(),
      onLine: (_, line) => {
        if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
      },
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        PORT: String(ingestPort),
        QUERY_PORT: String(queryPort),
        WEBHOOK_SECRET: secret,
        OBJECT_STORE: "gateway",
        GATEWAY_URL: gatewayUrl,
        DATA_DIR: path.join(dir, "functions"),
        MODEL_PACK: "models/shapes-tiny",
        ORT_INTRA_OP_THREADS: "2",
        LOG_LEVEL: "info",
        // A direct upload waits this long for a gateway record that never comes (default 10 s).
        STORAGE_EVENT_SETTLE_MS: "1500",
      },
    },
  );
  const close = async () => {
    await stopChild(functions);
    await mf.dispose();
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(
      `http://127.0.0.1:${ingestPort}/healthz`,
      120_000,
      undefined,
      functions.exited,
    );
    await waitForHttp(`${gatewayUrl}/healthz`, 60_000);
  } catch (err) {
    await close();
    throw err;
  }

  const kv = await mf.getKVNamespace("API_KEYS");
  const addKey = async (tenant: string, key: string) => {
    await kv.put(apiKeyKvKey(await hashApiKey(key)), JSON.stringify({ tenant }));
    return key;
  };
  /** Runs of the models that indexed `imageId` (the ingest function logs one line per job). */
  const extractions = (imageId: string) =>
    lines.filter((l) => l.event === "ingest" && l.imageId === imageId && l.status === "indexed")
      .length;
  return {
    mf,
    gatewayUrl,
    ingestUrl: `http://127.0.0.1:${ingestPort}`,
    queryUrl: `http://127.0.0.1:${queryPort}`,
    secret,
    proxy,
    lines,
    addKey,
    extractions,
    close,
  };
}

export type ServerlessStack = Awaited<ReturnType<typeof startServerlessStack>>;
