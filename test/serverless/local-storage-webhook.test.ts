/**
 * Storage webhooks on the embedded default (issue 22, item 6): `npm start`'s server with
 * WEBHOOK_SECRET and an S3 bucket receives signed event notifications at POST /v1/webhooks/storage
 * and indexes the objects it reads from the bucket — through the real S3 client (SigV4) against an
 * S3 endpoint on loopback (test/support/fake-s3.ts), with notifications in the S3 format (which MinIO
 * also sends) and the R2 format.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveLimits } from "../../src/lib/limits.js";
import { generateSecret } from "../../src/lib/webhooks/standard-webhooks.js";
import { createLogger } from "../../src/node/logging.js";
import { S3ObjectStore } from "../../src/node/objects/s3.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { parseEnv, storageWebhookSettings } from "../../src/node/server/env.js";
import { storageWebhookApp, withStorageWebhook } from "../../src/node/server/storage-webhook.js";
import { pngBytes } from "../api/harness.js";
import { FakeS3 } from "../support/fake-s3.js";
import { FakeExtractor, FakeTextEmbedder } from "../support/fakes.js";
import { signedRequest } from "../functions/helpers.js";

const SECRET = generateSecret();
const CREDS = {
  bucket: "photos",
  accessKeyId: "AKIDLOCAL",
  secretAccessKey: "s3cr3t",
  region: "us-east-1",
};

let s3: FakeS3;
let bucket: S3ObjectStore;
let dataDir: string;
let server: Awaited<ReturnType<typeof buildLocalServer>>;
let extractor: FakeExtractor;
let fetchApp: (req: Request) => Response | Promise<Response>;
let seq = 0;

beforeEach(async () => {
  s3 = await FakeS3.start(CREDS);
  bucket = new S3ObjectStore({ ...CREDS, endpoint: s3.endpoint, forcePathStyle: true });
  dataDir = await mkdtemp(path.join(tmpdir(), "rs-local-webhook-"));
  extractor = new FakeExtractor();
  server = await buildLocalServer(
    {
      dataDir,
      limits: {},
      apiKeys: {},
      ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 },
      vectorIndexThreshold: 50_000,
    },
    { extractor, text: new FakeTextEmbedder() },
    createLogger("silent"),
  );
  const webhook = storageWebhookApp({
    secrets: [SECRET],
    bucket,
    services: server.services,
    pack: extractor.pack,
    limits: resolveLimits({}),
  });
  fetchApp = withStorageWebhook(server.app, webhook);
});
afterEach(async () => {
  await server.close();
  bucket.close();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** An S3 event notification as S3 (and MinIO) sends it; the key URL-encoded, a rising sequencer. */
const s3Event = (eventName: string, key: string) => ({
  Records: [
    {
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: new Date().toISOString(),
      eventName,
      s3: {
        s3SchemaVersion: "1.0",
        bucket: { name: "photos", arn: "arn:aws:s3:::photos" },
        object: {
          key: encodeURIComponent(key),
          size: 1,
          sequencer: (++seq).toString(16).padStart(16, "0").toUpperCase(),
        },
      },
    },
  ],
});

async function deliver(payload: unknown, secret = SECRET) {
  const res = await fetchApp(
    await signedRequest("http://local/v1/webhooks/storage", payload, { secret }),
  );
  return { status: res.status, body: (await res.json()) as { results?: { result: string }[] } };
}

async function settled(id: string) {
  await server.jobs.waitFor({ tenant: "default", imageId: id }, 10_000);
  return server.services.catalog.get("default", id);
}

describe("local server: POST /v1/webhooks/storage with an S3 bucket", () => {
  it("indexes an object put into the bucket, once, however often notified", async () => {
    await bucket.put("images/default/cat.png", await pngBytes(40, 30), "image/png");
    const first = await deliver(s3Event("ObjectCreated:Put", "images/default/cat.png"));
    expect(first).toMatchObject({ status: 200, body: { results: [{ result: "queued" }] } });
    expect((await settled("cat.png"))?.status).toBe("indexed");
    const again = await deliver(s3Event("ObjectCreated:Put", "images/default/cat.png"));
    expect(again.body.results?.[0]?.result).toBe("unchanged");
    expect(extractor.calls).toBe(1);
    // The image is the server's own now: served by the public API like an upload.
    const res = await fetchApp(new Request("http://local/v1/images/cat.png/file"));
    expect(res.status).toBe(200);
  });

  it("re-indexes overwritten bytes and removes a deleted object's image", async () => {
    await bucket.put("images/default/d.png", await pngBytes(40, 30), "image/png");
    await deliver(s3Event("ObjectCreated:Put", "images/default/d.png"));
    await settled("d.png");
    await bucket.put("images/default/d.png", await pngBytes(50, 20, [1, 2, 3]), "image/png");
    expect(
      (await deliver(s3Event("ObjectCreated:Put", "images/default/d.png"))).body.results?.[0]
        ?.result,
    ).toBe("queued");
    expect((await settled("d.png"))?.bytes).toBeGreaterThan(0);
    expect(extractor.calls).toBe(2);
    await bucket.delete("images/default/d.png");
    const del = await deliver(s3Event("ObjectRemoved:Delete", "images/default/d.png"));
    expect(del.body.results?.[0]?.result).toBe("deleted");
    expect(await server.services.catalog.get("default", "d.png")).toBeNull();
    expect(await server.services.vectors.count("default")).toBe(0);
  });

  it("accepts R2's notification format too", async () => {
    await bucket.put("images/default/r2.png", await pngBytes(30, 30), "image/png");
    const r2 = {
      account: "a",
      bucket: "photos",
      action: "PutObject",
      object: { key: "images/default/r2.png", size: 1, eTag: "e" },
      eventTime: new Date().toISOString(),
    };
    expect((await deliver(r2)).body.results?.[0]?.result).toBe("queued");
    expect((await settled("r2.png"))?.status).toBe("indexed");
  });

  it("refuses unsigned or wrongly signed notifications (401) and leaves the public API as it was", async () => {
    await bucket.put("images/default/x.png", await pngBytes(30, 30), "image/png");
    expect(
      (await deliver(s3Event("ObjectCreated:Put", "images/default/x.png"), generateSecret()))
        .status,
    ).toBe(401);
    const unsigned = await fetchApp(
      new Request("http://local/v1/webhooks/storage", { method: "POST", body: "{}" }),
    );
    expect(unsigned.status).toBe(401);
    expect(extractor.calls).toBe(0);
    expect((await fetchApp(new Request("http://local/v1/images"))).status).toBe(200);
  });
});

describe("local server env: the webhook needs its secret and its bucket", () => {
  const bucketEnv = {
    S3_BUCKET: "photos",
    S3_ENDPOINT: "http://127.0.0.1:9000",
    S3_ACCESS_KEY_ID: "a",
    S3_SECRET_ACCESS_KEY: "b",
    S3_FORCE_PATH_STYLE: "true",
  };
  it("is off without them, on with both, and refused with one alone", () => {
    expect(storageWebhookSettings(parseEnv({}))).toBeUndefined();
    const on = storageWebhookSettings(parseEnv({ WEBHOOK_SECRET: SECRET, ...bucketEnv }));
    expect(on).toMatchObject({
      secrets: [SECRET],
      bucket: { bucket: "photos", forcePathStyle: true },
    });
    expect(() => parseEnv({ WEBHOOK_SECRET: SECRET })).toThrow(/S3_BUCKET/);
    expect(() => parseEnv({ ...bucketEnv })).toThrow(/WEBHOOK_SECRET/);
    expect(() => parseEnv({ WEBHOOK_SECRET: SECRET, S3_BUCKET: "photos" })).toThrow(
      /S3_ACCESS_KEY_ID/,
    );
  });
});
