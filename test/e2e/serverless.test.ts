/**
 * The serverless stack end to end (issue 19): the gateway Worker in workerd and the real Node
 * functions with the bundled pack (test/e2e/serverless-stack.ts), driven over HTTP through the
 * gateway only — upload → queue → ingest function → store → search; a direct-to-bucket object →
 * storage event → indexed once; a failed ingest → dead letter → retry; signatures; the rate limit.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rleIou } from "../../src/lib/masks/rle.js";
import type { CocoRle } from "../../src/lib/masks/types.js";
import { INGEST_JOB_PATH } from "../../src/lib/remote/ingest.js";
import { generateSecret, signedHeaders } from "../../src/lib/webhooks/standard-webhooks.js";
import { pngBytes } from "../api/harness.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";
import {
  startServerlessStack,
  STORAGE_EVENTS_PRODUCER,
  type ServerlessStack,
} from "./serverless-stack.js";

const KEY = `rs_test_${"E2eServerlessAcme".padEnd(32, "0")}`;
const BURST_KEY = `rs_test_${"E2eServerlessBurst".padEnd(32, "0")}`;
const RATE_LIMIT = 60;
let stack: ServerlessStack;

beforeAll(async () => {
  stack = await startServerlessStack({ rateLimit: RATE_LIMIT, maxAttempts: 3 });
  await stack.addKey("acme", KEY);
  await stack.addKey("burst", BURST_KEY);
}, 180_000);
afterAll(() => stack?.close());

function api(path: string, init: RequestInit = {}, key = KEY): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  return fetch(`${stack.gatewayUrl}${path}`, { ...init, headers });
}

/** The record as the Worker's R2 holds it (read directly: polling costs no rate-limit tokens). */
async function record(tenant: string, id: string) {
  const obj = await (await stack.mf.getR2Bucket("IMAGES")).get(`catalog/${tenant}/${id}.json`);
  return obj
    ? ((await obj.json()) as { status: string; error?: string; errorCode?: string })
    : null;
}

async function waitFor(tenant: string, id: string, statuses: string[], timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const rec = await record(tenant, id);
    if ((rec && statuses.includes(rec.status)) || Date.now() > until) return rec;
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function upload(id: string, bytes: Uint8Array) {
  const res = await api(`/v1/images?id=${id}`, {
    method: "POST",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "image/png" },
  });
  expect(res.status).toBe(202);
}

/** What R2 event notifications deliver to the storage-events queue (Cloudflare's format). */
async function notify(key: string, action = "PutObject") {
  const queue = await stack.mf.getQueueProducer(STORAGE_EVENTS_PRODUCER);
  await queue.send({
    account: "local",
    bucket: "region-search-images",
    action,
    object: { key, size: 1, eTag: "e" },
    eventTime: new Date().toISOString(),
  });
}

describe("serverless stack on workerd + the Node functions with the bundled pack", () => {
  it("upload → queue → ingest → search finds the described object with its mask", async () => {
    const [scene] = readShapesSplit(SHAPES_FIXTURE_DIR, 1);
    const target = scene!.objects.find((o) => o.caption_unique && o.size === "large")!;
    await upload("scene", readFileSync(scene!.png));
    // The bucket notification of the gateway's own write reaches the function too (images/ is watched).
    await notify("images/acme/scene");
    expect((await waitFor("acme", "scene", ["indexed", "failed"]))?.status).toBe("indexed");
    const res = await api("/v1/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: target.caption, imageIds: ["scene"], limit: 1 }),
    });
    expect(res.status).toBe(200);
    const [top] = ((await res.json()) as { results: { imageId: string; mask: CocoRle }[] }).results;
    expect(top?.imageId).toBe("scene");
    expect(top?.mask.size).toEqual([scene!.height, scene!.width]);
    expect(rleIou(top!.mask, target.mask)).toBeGreaterThan(0.5);
    // Let the storage event settle, then count: the models ran once for this upload.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(stack.extractions("scene")).toBe(1);
  });

  it("a direct-to-bucket object → storage event → indexed once, however often notified", async () => {
    const bucket = await stack.mf.getR2Bucket("IMAGES");
    await bucket.put("images/acme/direct", await pngBytes(64, 48, [200, 30, 30]), {
      httpMetadata: { contentType: "image/png" },
    });
    await notify("images/acme/direct");
    await notify("images/acme/direct");
    expect((await waitFor("acme", "direct", ["indexed", "failed"]))?.status).toBe("indexed");
    const res = await api("/v1/images/direct");
    expect(((await res.json()) as { status: string }).status).toBe("indexed");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(stack.extractions("direct")).toBe(1);
  });

  it("a failed ingest is retried, dead-lettered with its reason, and replayed by the retry route", async () => {
    await stack.proxy.set({ kind: "refuse" });
    try {
      await upload("dlq", await pngBytes(40, 40, [30, 30, 200]));
      const failed = await waitFor("acme", "dlq", ["failed"], 40_000);
      expect(failed).toMatchObject({ status: "failed" });
      expect(failed?.error).toMatch(/\(dead-lettered\): the ingest function did not answer/);
    } finally {
      await stack.proxy.set({ kind: "pass" });
    }
    const retried = await api("/v1/images/dlq/retry", { method: "POST" });
    expect(retried.status).toBe(202);
    expect((await waitFor("acme", "dlq", ["indexed"]))?.status).toBe("indexed");
    expect(stack.extractions("dlq")).toBe(1);
  });

  it("the functions and the gateway's object endpoint refuse bad or missing signatures (401)", async () => {
    const body = JSON.stringify({ tenant: "acme", imageId: "scene" });
    const forged = await signedHeaders([generateSecret()], body);
    const targets = [
      `${stack.ingestUrl}${INGEST_JOB_PATH}`,
      `${stack.queryUrl}/rpc/embed`,
      `${stack.gatewayUrl}/internal/objects`,
    ];
    for (const url of targets) {
      for (const headers of [{}, forged]) {
        const res = await fetch(url, {
          method: "POST",
          body,
          headers: { ...headers, "content-type": "application/json" },
        });
        expect(res.status, url).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
    }
  });

  it("over the rate: 429 with Retry-After, for that key only", async () => {
    let limited: Response | undefined;
    for (let i = 0; i < RATE_LIMIT * 2 && !limited; i++) {
      const res = await api("/v1/images?limit=1", {}, BURST_KEY);
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    expect(limited?.status).toBe(429);
    expect(limited?.headers.get("retry-after")).toBe("60");
    expect(((await limited!.json()) as { error: { code: string } }).error.code).toBe(
      "rate_limited",
    );
    expect((await api("/v1/images?limit=1")).status).toBe(200);
  });
});
