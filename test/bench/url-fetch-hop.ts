/**
 * What the gateway's delegated URL fetch costs over a direct one: the same pinned Node fetcher,
 * called directly (the local server) and through the query function over signed HTTP on loopback
 * (`RemoteUrlFetcher` → `POST /rpc/fetch-url`, the gateway's path, minus the real network between
 * the Worker and the function). Prints a Markdown table of median and p90 milliseconds; run with
 * `npx tsx test/bench/url-fetch-hop.ts [runs]` (figures, not assertions).
 */
import { DEFAULT_URL_FETCH } from "../../src/lib/limits.js";
import { RemoteUrlFetcher } from "../../src/lib/remote/url-fetch.js";
import type { UrlFetcher } from "../../src/lib/services.js";
import { DEFAULT_URL_POLICY } from "../../src/lib/url-fetch/policy.js";
import { generateSecret } from "../../src/lib/webhooks/standard-webhooks.js";
import { SignedClient } from "../../src/lib/webhooks/client.js";
import { createQueryFunction } from "../../src/node/functions/query/app.js";
import { SharpRenderer } from "../../src/node/render/sharp-renderer.js";
import { createNodeUrlFetcher } from "../../src/node/url-fetch.js";
import { MemoryVectorStore } from "../store/memory-store.js";
import { FakeTextEmbedder } from "../support/fakes.js";
import { admitLoopbackServer, resolveTestName, startImageServer } from "../support/image-server.js";
import { listen } from "../support/listen.js";

const RUNS = Number(process.argv[2] ?? 30);
const SIZES = [64 * 1024, 1 << 20, 16 << 20];
const MAX = 20 << 20;

const bodies = new Map(
  SIZES.map((n) => [`/${n}`, new Uint8Array(n).map((_, i) => (i * 2654435761) >>> 24)]),
);
const images = await startImageServer(
  Object.fromEntries(
    [...bodies].map(([path, body]) => [
      path,
      (_q, res) => res.writeHead(200, { "content-length": body.length }).end(body),
    ]),
  ),
);
const pinned = createNodeUrlFetcher({
  ...DEFAULT_URL_FETCH,
  allowedPorts: [images.port],
  resolve: resolveTestName,
  isAllowedAddress: admitLoopbackServer,
});
const secret = generateSecret();
const query = await listen(
  createQueryFunction(
    {
      text: new FakeTextEmbedder(),
      vectors: new MemoryVectorStore(),
      renderer: new SharpRenderer(),
      urlFetcher: pinned,
    },
    { secrets: [secret], maxBodyBytes: 1 << 20, maxFetchBytes: MAX },
  ),
);
const delegated = new RemoteUrlFetcher(
  new SignedClient({ baseUrl: query.url, secrets: [secret] }),
  { ...DEFAULT_URL_POLICY, allowedPorts: [images.port] },
);

async function time(fetcher: UrlFetcher, url: string): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const t0 = performance.now();
    await fetcher.fetchBytes(url, { maxBytes: MAX });
    if (i >= 3) ms.push(performance.now() - t0); // 3 warm-up runs
  }
  return ms.sort((a, b) => a - b);
}

const q = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

console.log(
  `| body | direct (local server) median / p90 | via the query function median / p90 | added median |`,
);
console.log(`|---|---|---|---|`);
for (const n of SIZES) {
  const url = `http://images.example.test:${images.port}/${n}`;
  const [direct, via] = [await time(pinned, url), await time(delegated, url)];
  const fmt = (s: number[]) => `${q(s, 0.5).toFixed(1)} / ${q(s, 0.9).toFixed(1)} ms`;
  console.log(
    `| ${(n / 2 ** 20).toFixed(n < 1 << 20 ? 3 : 0)} MiB | ${fmt(direct)} | ${fmt(via)} | ${(q(via, 0.5) - q(direct, 0.5)).toFixed(1)} ms |`,
  );
}
console.log(`\n${RUNS} runs per cell, Node ${process.version}, loopback only.`);
await Promise.all([query.close(), pinned.close(), images.close()]);
