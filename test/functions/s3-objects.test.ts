import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ObjectBlobStore, ObjectCatalog } from "../../src/lib/objects/index.js";
import { parseFunctionEnv } from "../../src/node/functions/env.js";
import { objectSettings } from "../../src/node/storage-env.js";
import { S3ObjectStore, type S3ObjectStoreOptions } from "../../src/node/objects/s3.js";
import { pngBytes } from "../api/harness.js";
import { FakeS3 } from "../support/fake-s3.js";
import { makeFunctions, SECRET, signedRequest } from "./helpers.js";

const CREDS = {
  bucket: "region-search",
  accessKeyId: "AKIDTEST",
  secretAccessKey: "s3cr3t",
  region: "auto",
};
const bytesOf = (s: string) => new TextEncoder().encode(s);

let s3: FakeS3;
const stores: S3ObjectStore[] = [];

beforeEach(async () => {
  s3 = await FakeS3.start({ ...CREDS, pageSize: 2 });
});
afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  await s3.close();
});

/** A store on the fake, path-style as R2/MinIO-style endpoints without bucket DNS need. */
function store(overrides: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
  const created = new S3ObjectStore({
    ...CREDS,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    ...overrides,
  });
  stores.push(created);
  return created;
}

describe("S3ObjectStore against an S3 endpoint", () => {
  it("round-trips bytes and content type, signed for the configured key", async () => {
    const objects = store();
    const bytes = new Uint8Array([0, 1, 2, 255, 254]);
    await objects.put("images/acme/cat.png", bytes, "image/png");
    expect(s3.objects.get("images/acme/cat.png")).toEqual({ bytes, contentType: "image/png" });
    expect(await objects.get("images/acme/cat.png")).toEqual({ bytes, contentType: "image/png" });
    expect(s3.requests.map((r) => r.method)).toEqual(["PUT", "GET"]);
    expect(s3.rejected).toBe(0);
  });

  it("answers null for a missing key, but a missing bucket is an error", async () => {
    expect(await store().get("images/acme/nothing")).toBeNull();
    await expect(store({ bucket: "no-such-bucket" }).get("images/acme/nothing")).rejects.toThrow(
      /no-such-bucket/,
    );
  });

  it("overwrites, including the content type", async () => {
    const objects = store();
    await objects.put("catalog/acme/a.json", bytesOf("{}"), "application/json");
    await objects.put("catalog/acme/a.json", bytesOf("[1]"), "text/plain");
    expect(await objects.get("catalog/acme/a.json")).toEqual({
      bytes: bytesOf("[1]"),
      contentType: "text/plain",
    });
  });

  it("deletes, and deleting a missing key succeeds", async () => {
    const objects = store();
    await objects.put("images/acme/x", bytesOf("x"), "image/png");
    await objects.delete("images/acme/x");
    expect(await objects.get("images/acme/x")).toBeNull();
    await expect(objects.delete("images/acme/x")).resolves.toBeUndefined();
  });

  it("lists keys under a prefix in order across pages, up to the limit", async () => {
    const objects = store();
    for (const id of ["c", "a", "e", "b", "d"])
      await objects.put(`catalog/acme/${id}.json`, bytesOf("{}"), "application/json");
    await objects.put("catalog/other/z.json", bytesOf("{}"), "application/json");
    const all = ["a", "b", "c", "d", "e"].map((id) => `catalog/acme/${id}.json`);
    expect(await objects.list("catalog/acme/", 100)).toEqual(all);
    expect(await objects.list("catalog/acme/", 3)).toEqual(all.slice(0, 3));
    // From a key on (S3's StartAfter), across pages: what a catalog cursor reads.
    expect(await objects.list("catalog/acme/", 100, "catalog/acme/b")).toEqual(all.slice(1));
    expect(await objects.list("catalog/acme/", 100, "catalog/acme/b.json")).toEqual(all.slice(2));
  });

  it("serves the blob store and catalog at the shared key layout", async () => {
    const objects = store();
    await new ObjectBlobStore(objects).put("acme", "img1", bytesOf("png"), "image/png");
    const now = new Date().toISOString();
    const catalog = new ObjectCatalog(objects);
    await catalog.put({
      tenant: "acme",
      id: "img1",
      status: "queued",
      contentType: "image/png",
      bytes: 3,
      sha256: "x",
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    });
    expect([...s3.objects.keys()].sort()).toEqual(["catalog/acme/img1.json", "images/acme/img1"]);
    expect((await catalog.list("acme")).map((r) => r.id)).toEqual(["img1"]);
  });

  it("is refused with a wrong access key or secret (the fake checks the signature)", async () => {
    await expect(
      store({ accessKeyId: "AKIDOTHER" }).put("images/acme/x", bytesOf("x"), "image/png"),
    ).rejects.toThrow();
    await expect(store({ secretAccessKey: "wrong" }).get("images/acme/x")).rejects.toThrow();
    expect(s3.rejected).toBeGreaterThanOrEqual(2);
    expect(s3.objects.size).toBe(0);
  });
});

describe("OBJECT_STORE=s3 environment", () => {
  const base = { WEBHOOK_SECRET: SECRET, OBJECT_STORE: "s3" };

  it("names each missing variable", () => {
    expect(() => parseFunctionEnv(base)).toThrow(
      /S3_BUCKET is required.*S3_ACCESS_KEY_ID is required.*S3_SECRET_ACCESS_KEY is required.*S3_ENDPOINT is required with S3_REGION=auto/,
    );
  });

  it("parses an R2 setup into store options (region auto, path style off unless asked)", () => {
    const env = parseFunctionEnv({
      ...base,
      S3_ENDPOINT: "https://acct.r2.cloudflarestorage.com",
      S3_BUCKET: "b",
      S3_ACCESS_KEY_ID: "k",
      S3_SECRET_ACCESS_KEY: "s",
    });
    expect(objectSettings(env)).toEqual({
      kind: "s3",
      options: {
        endpoint: "https://acct.r2.cloudflarestorage.com",
        region: "auto",
        bucket: "b",
        accessKeyId: "k",
        secretAccessKey: "s",
        forcePathStyle: false,
      },
    });
    expect(
      parseFunctionEnv({
        ...base,
        S3_REGION: "eu-west-1",
        S3_BUCKET: "b",
        S3_ACCESS_KEY_ID: "k",
        S3_SECRET_ACCESS_KEY: "s",
        S3_FORCE_PATH_STYLE: "true",
      }).S3_FORCE_PATH_STYLE,
    ).toBe(true);
  });

  it("reads S3_FORCE_PATH_STYLE=false as false, and refuses anything not boolean", () => {
    const env = {
      ...base,
      S3_REGION: "eu-west-1",
      S3_BUCKET: "b",
      S3_ACCESS_KEY_ID: "k",
      S3_SECRET_ACCESS_KEY: "s",
    };
    expect(parseFunctionEnv({ ...env, S3_FORCE_PATH_STYLE: "false" }).S3_FORCE_PATH_STYLE).toBe(
      false,
    );
    expect(() => parseFunctionEnv({ ...env, S3_FORCE_PATH_STYLE: "maybe" })).toThrow(
      /S3_FORCE_PATH_STYLE/,
    );
  });

  it("does not ask for S3 variables with the other stores", () => {
    expect(parseFunctionEnv({ WEBHOOK_SECRET: SECRET }).OBJECT_STORE).toBe("disk");
  });
});

describe("ingest function with OBJECT_STORE=s3", () => {
  it("reads a signed job's image from the bucket and writes the indexed record back", async () => {
    const env = parseFunctionEnv({
      WEBHOOK_SECRET: SECRET,
      OBJECT_STORE: "s3",
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: CREDS.bucket,
      S3_ACCESS_KEY_ID: CREDS.accessKeyId,
      S3_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
    });
    const fns = await makeFunctions(objectSettings(env));
    try {
      // What the gateway writes to R2 before enqueueing the job, put straight into the bucket.
      const bytes = await pngBytes(40, 30);
      fns.extractor.setLabels(bytes, ["red star", "blue square"]);
      const now = new Date().toISOString();
      const record = {
        tenant: "acme",
        id: "img1",
        status: "queued",
        contentType: "image/png",
        bytes: bytes.length,
        sha256: "x",
        attempts: 0,
        createdAt: now,
        updatedAt: now,
      };
      s3.objects.set("images/acme/img1", { bytes, contentType: "image/png" });
      s3.objects.set("catalog/acme/img1.json", {
        bytes: bytesOf(JSON.stringify(record)),
        contentType: "application/json",
      });

      const res = await fns.ingest.request(
        await signedRequest("http://ingest/v1/jobs/ingest", {
          tenant: "acme",
          imageId: "img1",
          attempt: 1,
          final: false,
        }),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ outcome: { status: "indexed", regionCount: 2 } });
      expect(s3.requests).toContainEqual({ method: "GET", key: "images/acme/img1" });
      const stored = s3.objects.get("catalog/acme/img1.json");
      expect(JSON.parse(new TextDecoder().decode(stored?.bytes))).toMatchObject({
        status: "indexed",
      });
      expect(await fns.vectors.count("acme")).toBe(3);
      expect(s3.rejected).toBe(0);
    } finally {
      await fns.close();
    }
  });
});
