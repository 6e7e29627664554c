/**
 * Runs the gateway Worker in the local Workers runtime (workerd, through Miniflare, which ships
 * with wrangler): the bundle is the one `wrangler deploy --dry-run` produces from wrangler.toml, and
 * the bindings are wrangler.toml's (local R2, KV, Queues, rate limiter) with test overrides. The
 * Node functions run in this process on loopback, with fake models, the embedded store and, if a
 * test gives one, the query function's URL fetcher.
 */
import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { serve } from "@hono/node-server";
import { Miniflare, type Request as MfRequest, type Response as MfResponse } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { apiKeyKvKey, hashApiKey } from "../../src/edge/api-keys.js";
import type { UrlFetcher } from "../../src/lib/services.js";
import { openObjects } from "../../src/node/compose.js";
import type { FunctionApp } from "../../src/node/functions/types.js";
import { createIngestFunction } from "../../src/node/functions/ingest/app.js";
import { createQueryFunction } from "../../src/node/functions/query/app.js";
import { SharpRenderer } from "../../src/node/render/sharp-renderer.js";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { FAKE_PACK, FakeExtractor, FakeTextEmbedder } from "../support/fakes.js";
import { SECRET } from "../functions/helpers.js";

const run = promisify(execFile);

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** A fresh `rs_test_` key in the gateway's format (operators mint theirs with infra/deploy/mint-api-key.mjs). */
const mintTestKey = (): string =>
  `rs_test_${Array.from({ length: 32 }, () => BASE62[randomInt(62)]).join("")}`;

/** `wrangler deploy --dry-run --outdir <dir>`: validates wrangler.toml and bundles the Worker. */
export async function dryRunBundle(outdir: string): Promise<string> {
  const wrangler = path.resolve("node_modules/.bin/wrangler");
  await run(wrangler, ["deploy", "--dry-run", "--outdir", outdir], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return path.join(outdir, "gateway.js");
}

/**
 * The bundle's modules for Miniflare: the Worker, and the search page's files that wrangler bundled
 * as text (wrangler.toml's `?raw` rule). The dry-run output does not record module types (a text
 * module there may end in .js), so they are declared here.
 */
export async function bundleModules(script: string) {
  const dir = path.dirname(script);
  const text = (await readdir(dir)).filter(
    (f) => f !== path.basename(script) && !f.endsWith(".map") && f !== "README.md",
  );
  return [
    { type: "ESModule" as const, path: script },
    ...text.map((f) => ({ type: "Text" as const, path: path.join(dir, f) })),
  ];
}

/** Listens on a loopback port; the handler is looked up per request so it can be set later. */
function loopback(handler: () => FunctionApp | undefined) {
  const server = serve({
    fetch: (req) => handler()?.fetch(req) ?? new Response("not ready", { status: 503 }),
    port: 0,
    hostname: "127.0.0.1",
  });
  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url };
}

export interface StackOptions {
  maxUploadBytes: number;
  rateLimit: number;
  /** Extra variables over wrangler.toml's (e.g. URL_FETCH_ENABLED). */
  vars?: Record<string, string>;
  /** Answers every fetch() the Worker makes (the Internet, as far as it can tell); loopback calls must be forwarded. */
  outbound?: (request: MfRequest) => Promise<MfResponse>;
  /** The query function's fetcher behind `/rpc/fetch-url` (none: it answers 501). */
  queryUrlFetcher?: UrlFetcher;
}

export async function startStack(options: StackOptions) {
  const dir = await mkdtemp(path.join(tmpdir(), "rs-edge-"));
  const script = await dryRunBundle(path.join(dir, "bundle"));
  const extractor = new FakeExtractor();
  const vectors = await LanceVectorStore.open({ dir: path.join(dir, "vectors") });
  // The ingest function needs the gateway's URL (its object store), known only once workerd runs.
  const ingest: { app?: FunctionApp } = {};
  const ingestHttp = loopback(() => ingest.app);
  const queryDeps = {
    text: new FakeTextEmbedder(),
    vectors,
    renderer: new SharpRenderer(),
    ...(options.queryUrlFetcher ? { urlFetcher: options.queryUrlFetcher } : {}),
  };
  const queryApp = createQueryFunction(queryDeps, {
    secrets: [SECRET],
    maxBodyBytes: 1 << 22,
    maxFetchBytes: options.maxUploadBytes,
  });
  const queryHttp = loopback(() => queryApp);
  await new Promise((r) => setTimeout(r, 50));

  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const mf = new Miniflare({
    ...(workerOptions as object),
    modules: await bundleModules(script),
    modulesRoot: path.dirname(script),
    bindings: {
      ...workerOptions.bindings,
      INGEST_URL: ingestHttp.url(),
      QUERY_URL: queryHttp.url(),
      MODEL_PACK_ID: FAKE_PACK,
      WEBHOOK_SECRET: SECRET,
      MAX_UPLOAD_BYTES: String(options.maxUploadBytes),
      ...options.vars,
    },
    ...(options.outbound ? { outboundService: options.outbound } : {}),
    ratelimits: { RATE_LIMITER: { simple: { limit: options.rateLimit, period: 60 } } },
    // The Worker's JSON request logs would drown the test output; its errors still show.
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
      stdout.resume();
      stderr.pipe(process.stderr);
    },
    // Retries come quickly in tests.
    queueConsumers: {
      ...(workerOptions.queueConsumers as object),
      "region-search-ingest": {
        maxBatchTimeout: 0.1,
        maxRetries: 2,
        deadLetterQueue: "region-search-ingest-dlq",
        retryDelay: 0,
      },
    },
  } as ConstructorParameters<typeof Miniflare>[0]);
  const gatewayUrl = (await mf.ready).toString();
  const objects = openObjects({ kind: "gateway", url: gatewayUrl, secrets: [SECRET] });
  ingest.app = createIngestFunction({ ...objects, vectors }, extractor, { secrets: [SECRET] }).app;

  const kv = await mf.getKVNamespace("API_KEYS");
  const addKey = async (tenant: string) => {
    const key = mintTestKey();
    await kv.put(apiKeyKvKey(await hashApiKey(key)), JSON.stringify({ tenant }));
    return key;
  };
  const close = async () => {
    await mf.dispose();
    ingestHttp.server.close();
    queryHttp.server.close();
    await vectors.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { mf, gatewayUrl, extractor, vectors, addKey, script, close };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;
