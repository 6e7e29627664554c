/**
 * Replays answered once on every signed route (issue 19, item 6): a second delivery of one signed
 * message inside the 5-minute window is refused (409) where executing it again would repeat an
 * effect — the query function's /rpc/* and the gateway's /internal/objects — and answered from the
 * first delivery's record on the ingest function, which must accept the queue's redeliveries.
 */
import { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyShell } from "../../src/lib/api/shell.js";
import type { ObjectStore } from "../../src/lib/objects/index.js";
import { objectRpcApp } from "../../src/lib/objects/index.js";
import { sha256Hex } from "../../src/lib/api/upload.js";
import { INGEST_JOB_PATH } from "../../src/lib/remote/ingest.js";
import type { SignedEnv } from "../../src/lib/webhooks/middleware.js";
import { MemoryReplayLedger } from "../../src/lib/webhooks/replay.js";
import { pngBytes } from "../api/harness.js";
import { makeFunctions, SECRET, signedRequest } from "./helpers.js";

let fns: Awaited<ReturnType<typeof makeFunctions>>;
beforeEach(async () => {
  fns = await makeFunctions();
});
afterEach(() => fns.close());

/** The same signed request, delivered twice (a captured message replayed). */
async function twice(
  app: { request(r: Request): Response | Promise<Response> },
  url: string,
  payload: unknown,
) {
  const first = await signedRequest(url, payload, { id: `msg_${url.length}_replay` });
  const replay = first.clone();
  return [await app.request(first), await app.request(replay)] as const;
}

describe("replayed signed messages", () => {
  it("query function /rpc/*: the replay is refused with 409 and not executed", async () => {
    const [first, replay] = await twice(fns.query, "http://query/rpc/vectors", {
      op: "deleteImage",
      tenant: "acme",
      imageId: "x",
    });
    expect(first.status).toBe(200);
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("conflict");
    // A fresh id for the same operation is a new call, and runs.
    const fresh = await fns.query.request(
      await signedRequest("http://query/rpc/vectors", {
        op: "deleteImage",
        tenant: "acme",
        imageId: "x",
      }),
    );
    expect(fresh.status).toBe(200);
  });

  it("gateway /internal/objects: a replayed write is refused, so it cannot restore older bytes", async () => {
    const data = new Map<string, Uint8Array>();
    const store: ObjectStore = {
      get: async (k) => (data.has(k) ? { bytes: data.get(k)!, contentType: "text/plain" } : null),
      put: async (k, b) => void data.set(k, b),
      delete: async (k) => void data.delete(k),
      list: async () => [...data.keys()],
    };
    // Mounted as the gateway mounts it, behind the one app shell (the error body).
    const app = new Hono<SignedEnv>();
    applyShell(app, {});
    app.route("/", objectRpcApp(store, [SECRET], 1 << 20, new MemoryReplayLedger()));
    const put = { op: "put", key: "catalog/acme/a.json", contentType: "text/plain", data: "b2xk" };
    const [first, replay] = await twice(app, "http://gw/objects", put);
    expect(first.status).toBe(204);
    expect(replay.status).toBe(409);
  });

  it("ingest function: a redelivered job id gets the first answer, the models run once", async () => {
    const bytes = await pngBytes(30, 30);
    await fns.blobs.put("acme", "r.png", bytes, "image/png");
    const now = new Date().toISOString();
    await fns.catalog.put({
      tenant: "acme",
      id: "r.png",
      status: "queued",
      contentType: "image/png",
      bytes: bytes.length,
      sha256: await sha256Hex(bytes),
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    });
    const [first, replay] = await twice(fns.ingest, `http://ingest${INGEST_JOB_PATH}`, {
      tenant: "acme",
      imageId: "r.png",
    });
    expect(first.status).toBe(200);
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { replayed: boolean }).replayed).toBe(true);
    expect(fns.extractor.calls).toBe(1);
  });
});

describe("MemoryReplayLedger", () => {
  it("claims an id once until it expires, then forgets it", () => {
    let now = 1_000;
    const ledger = new MemoryReplayLedger(10, () => now);
    expect(ledger.claim("a", 2_000)).toBe(true);
    expect(ledger.claim("a", 2_000)).toBe(false);
    now = 2_001;
    expect(ledger.claim("a", 3_000)).toBe(true);
  });
});
