/**
 * The serverless stack as a user starts it (`npm run dev:serverless`: wrangler dev + both functions
 * with the bundled pack, fresh state, the API key minted), measured through the gateway:
 * - time from launch to the first search result (an upload, indexed, then found);
 * - upload-to-searchable latency over N images (upload with ?wait=true, then the search that finds
 *   it), one at a time on an idle stack;
 * - extractions per uploaded image: each upload is also delivered as the R2 notification of its own
 *   object (what the bucket's event notifications on images/ send; wrangler dev has none, so the
 *   signed event is sent to the ingest function here, as the gateway's consumer forwards it), and
 *   the functions' one-line-per-job log counts how often the models indexed each image.
 *   npm run bench:serverless -- [--images 50] [--out docs/results/serverless.json]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { STORAGE_WEBHOOK_PATH } from "../../src/lib/remote/ingest.js";
import { SignedClient } from "../../src/lib/webhooks/client.js";
import { parseDotVars } from "../../src/node/functions/dev-stack/dev-vars.js";
import { startDevStack } from "../../src/node/functions/dev-stack/stack.js";
import { writeShapesSplit } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";
import { percentile } from "./stats.js";

const { values } = parseArgs({
  options: {
    images: { type: "string", default: "50" },
    out: { type: "string", default: "docs/results/serverless.json" },
  },
});
const N = Number(values.images);

async function main(): Promise<void> {
  const fixtures = path.resolve("test/fixtures/generated/serverless-bench");
  writeShapesSplit(fixtures, N + 1);
  const scenes = readShapesSplit(fixtures, N + 1);
  const state = await mkdtemp(path.join(tmpdir(), "rs-bench-serverless-"));
  const varsFile = path.join(state, ".dev.vars");
  const indexed = new Map<string, number>();
  const t0 = performance.now();
  const stack = await startDevStack({
    root: process.cwd(),
    stateDir: path.join(state, "state"),
    varsFile,
    gatewayPort: 28787,
    ingestPort: 28788,
    queryPort: 28789,
    modelPack: "models/shapes-tiny",
    tenant: "bench",
    onLine: (name, line) => {
      if (name !== "functions" || !line.startsWith("{")) return;
      const e = JSON.parse(line) as { event?: string; status?: string; imageId?: string };
      if (e.event === "ingest" && e.status === "indexed" && e.imageId)
        indexed.set(e.imageId, (indexed.get(e.imageId) ?? 0) + 1);
    },
  });
  const ready = performance.now() - t0;
  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${stack.gatewayUrl}${p}`, {
      ...init,
      headers: { ...(init.headers as object), authorization: `Bearer ${stack.apiKey}` },
    });
  const notifier = new SignedClient({
    baseUrl: "http://127.0.0.1:28788",
    secrets: [parseDotVars(readFileSync(varsFile, "utf8")).get("WEBHOOK_SECRET")!],
  });

  /** Upload, notify (as R2 would), wait until indexed, search until the image is found: ms. */
  const searchable = async (id: string, png: string, caption: string): Promise<number> => {
    const start = performance.now();
    const up = await api(`/v1/images?id=${id}&wait=true`, {
      method: "POST",
      body: readFileSync(png),
      headers: { "content-type": "image/png" },
    });
    if (up.status !== 201) throw new Error(`upload ${id}: ${up.status} ${await up.text()}`);
    const notified = notifier.post(STORAGE_WEBHOOK_PATH, {
      account: "local",
      bucket: "region-search-images",
      action: "PutObject",
      object: { key: `images/${stack.tenant}/${id}` },
      eventTime: new Date().toISOString(),
    });
    for (;;) {
      const res = await api("/v1/search", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: caption, imageIds: [id], limit: 1 }),
      });
      const { results } = (await res.json()) as { results: unknown[] };
      if (results.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const ms = performance.now() - start;
    await (await notified).body?.cancel();
    return ms;
  };

  try {
    const [first, ...rest] = scenes;
    const firstMs = await searchable("first", first!.png, first!.objects[0]!.caption);
    const launchToFirstResult = performance.now() - t0;
    const latencies: number[] = [];
    for (const [i, s] of rest.entries()) {
      latencies.push(await searchable(`img-${i}`, s.png, s.objects[0]!.caption));
      process.stdout.write(`\r${i + 1}/${rest.length} images`);
    }
    process.stdout.write("\n");
    await new Promise((r) => setTimeout(r, 2_000)); // the last notification settles
    const ids = ["first", ...rest.map((_, i) => `img-${i}`)];
    const extractions = ids.reduce((sum, id) => sum + (indexed.get(id) ?? 0), 0);
    const result = {
      date: new Date().toISOString(),
      command: `npm run bench:serverless -- --images ${N}`,
      machine: "2 shared CPU cores, Node 20, wrangler 4.85.0 (workerd), shapes-tiny pack",
      stackReadyMs: Math.round(ready),
      launchToFirstSearchResultMs: Math.round(launchToFirstResult),
      firstImageMs: Math.round(firstMs),
      images: latencies.length,
      uploadToSearchableMs: {
        p50: Math.round(percentile(latencies, 50)),
        p99: Math.round(percentile(latencies, 99)),
        max: Math.round(Math.max(...latencies)),
      },
      uploadedImages: ids.length,
      extractions,
      extractionsPerImage: Number((extractions / ids.length).toFixed(2)),
    };
    console.log(JSON.stringify(result, null, 2));
    writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");
  } finally {
    await stack.stop();
    await rm(state, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
