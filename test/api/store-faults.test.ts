/**
 * The vector store slow or down. Qdrant: the local server built from its environment as `npm start`
 * builds it (QDRANT_TIMEOUT_MS=300), talking to the OpenAPI-validating fake Qdrant through a TCP
 * fault proxy on loopback that adds latency, black-holes, resets or refuses connections. Every search
 * must settle with 503 and the one error body, well inside a generous bound (behaviour, not speed),
 * and answer again once the fault is gone. The embedded store failing (a store that throws) → 503 too.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SearchHit, StoredPoint } from "../../src/lib/store/types.js";
import { createLogger } from "../../src/node/logging.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { localServerSettings, parseEnv } from "../../src/node/server/env.js";
import { FakeQdrant } from "../store/qdrant-fake.js";
import { MemoryVectorStore } from "../store/memory-store.js";
import { FAKE_DIM, FakeExtractor, FakeTextEmbedder } from "../support/fakes.js";
import { FaultProxy, type FaultMode } from "../support/fault-proxy.js";
import { expectError, makeHarness, pngBytes } from "./harness.js";

/** One deadline for all tries of a call (issue 20); room for the fake's first schema compile on a loaded machine. */
const QDRANT_TIMEOUT_MS = 1_000;
/** Generous: a call settles within QDRANT_TIMEOUT_MS whatever fails; anything near this bound is a hang. */
const SETTLE_BOUND_MS = 6_000;

let fake: FakeQdrant;
let proxy: FaultProxy;
let dataDir: string;
let server: Awaited<ReturnType<typeof buildLocalServer>>;
let regionId: string;

beforeAll(async () => {
  fake = await FakeQdrant.start();
  proxy = await FaultProxy.start(fake.url);
  dataDir = await mkdtemp(path.join(tmpdir(), "rs-faults-"));
  const env = parseEnv({
    DATA_DIR: dataDir,
    VECTOR_STORE: "qdrant",
    QDRANT_URL: proxy.url,
    QDRANT_COLLECTION: "faults",
    QDRANT_TIMEOUT_MS: String(QDRANT_TIMEOUT_MS),
  });
  expect(env.QDRANT_TIMEOUT_MS).toBe(QDRANT_TIMEOUT_MS);
  const extractor = new FakeExtractor();
  server = await buildLocalServer(
    localServerSettings(env, FAKE_DIM),
    { extractor, text: new FakeTextEmbedder() },
    createLogger("silent"),
  );
  const bytes = await pngBytes(30, 10, [90, 20, 200]);
  extractor.setLabels(bytes, ["violet kite", "grey rock"]);
  const res = await server.app.request("/v1/images?id=kite&wait=true", {
    method: "POST",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "image/png" },
  });
  expect(res.status).toBe(201);
  regionId = (await searchOnce()).results[0]!.regionId;
});
afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
  expect(fake.requests.flatMap((r) => r.errors)).toEqual([]);
});

async function searchOnce(): Promise<{ results: { regionId: string; imageId: string }[] }> {
  const res = await server.app.request("/v1/search?q=violet%20kite&limit=1");
  expect(res.status).toBe(200);
  return (await res.json()) as { results: { regionId: string; imageId: string }[] };
}

const post = (url: string, body: unknown) =>
  server.app.request(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });

/** The request's answer and how long it took to settle. */
async function timed(
  req: () => Response | Promise<Response>,
): Promise<{ res: Response; ms: number }> {
  const t0 = performance.now();
  const res = await req();
  return { res, ms: performance.now() - t0 };
}

const FAULTS: Array<[string, FaultMode]> = [
  // Longer than the four calls together (4 × QDRANT_TIMEOUT_MS): no connection opens in time.
  ["slow (5 s latency per connection)", { kind: "latency", ms: 5_000 }],
  ["black hole (accepted, never answered)", { kind: "drop" }],
  ["connections reset", { kind: "reset" }],
  ["connections refused (port closed)", { kind: "refuse" }],
];

describe("Qdrant slow or down, behind a loopback fault proxy", () => {
  it.each(FAULTS)(
    "%s: searches, similar-region searches and region reads settle fast with 503, then recover",
    async (_name, mode) => {
      await proxy.set(mode);
      try {
        const calls = [
          () => server.app.request("/v1/search?q=violet%20kite"),
          () => post("/v1/search", { query: "violet kite", limit: 3 }),
          () => post("/v1/search/similar", { regionId, limit: 3 }),
          () => server.app.request(`/v1/regions/${regionId}`),
        ];
        for (const call of calls) {
          const { res, ms } = await timed(call);
          const err = await expectError(res, 503, "unavailable");
          expect(err.message).toMatch(/vector store (timed out|unreachable|unavailable)/);
          expect(ms).toBeLessThan(SETTLE_BOUND_MS);
        }
        // The image record lives in the catalog, not the store: still readable.
        expect((await server.app.request("/v1/images/kite")).status).toBe(200);
      } finally {
        await proxy.set({ kind: "pass" });
      }
      expect((await searchOnce()).results[0]).toMatchObject({ imageId: "kite", regionId });
    },
  );
});

/** A store whose reads fail as an embedded database's do when its disk is gone. */
class BrokenReads extends MemoryVectorStore {
  override async search(): Promise<SearchHit[]> {
    throw new Error(
      "lance error: IO error: No such file or directory (os error 2), /data/vectors/regions.lance",
    );
  }
  override async get(): Promise<StoredPoint | null> {
    throw new TypeError("Cannot read properties of undefined (reading 'toArray')");
  }
}

describe("the embedded store failing", () => {
  it("answers 503 with the one error body, never 500, and leaks no store internals", async () => {
    const h = await makeHarness({ vectors: new BrokenReads() });
    try {
      for (const res of [
        await h.app.request("/v1/search?q=anything"),
        await h.app.request("/v1/regions/1b4e28ba-2fa1-5d3b-9c5e-1f0a2b3c4d5e"),
      ]) {
        const err = await expectError(res, 503, "unavailable");
        expect(err.message).toBe("vector store failed; retry later");
      }
    } finally {
      await h.close();
    }
  });
});
