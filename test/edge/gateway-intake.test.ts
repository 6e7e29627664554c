/**
 * The gateway's intake on workerd (docs/gateway-intake.md): uploads pass the integrity check
 * (src/lib/integrity) before anything reaches R2, and images by URL (on by default) pass the literal
 * checks in the Worker and are then fetched by the query function's pinned Node fetcher, on loopback
 * here with a test resolver (test/support/image-server.ts), before the bytes take the upload path.
 * The Worker's own outbound fetches land in `internet` below: loopback function calls are forwarded,
 * anything else is recorded (and must not happen).
 */
import fc from "fast-check";
import { fetch as mfFetch, Response as MfResponse, type Request as MfRequest } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toApiError } from "../../src/lib/errors.js";
import { acceptImage } from "../../src/lib/intake/index.js";
import { DEFAULT_LIMITS, DEFAULT_URL_FETCH } from "../../src/lib/limits.js";
import { verifyImageIntegrity } from "../../src/lib/integrity/index.js";
import type { UrlFetcher } from "../../src/lib/services.js";
import { createNodeUrlFetcher } from "../../src/node/url-fetch.js";
import { expectError, pngBytes } from "../api/harness.js";
import { damagedImages, intactImages, type Sample } from "../support/bad-images.js";
import { mutatedImage } from "../support/mutations.js";
import {
  admitLoopbackServer,
  imageRoutes,
  resolveTestName,
  startImageServer,
  type ImageServer,
} from "../support/image-server.js";
import { blackPng } from "../support/png.js";
import { startStack, type Stack } from "./worker.js";

const MAX_UPLOAD = 2 * 1024 * 1024;
let stack: Stack;
let key: string;
let damaged: Sample[];
let intact: Sample[];
let catPng: Uint8Array;
let images: ImageServer;
let closeFetcher: (() => Promise<void>) | undefined;

/** The query function's pinned fetcher, its calls counted (the gateway's own checks must spare it some). */
const queryCalls: string[] = [];
/** Every URL the Worker fetched that was not a loopback function: it must fetch no image itself. */
const workerFetched: string[] = [];

async function internet(request: MfRequest): Promise<MfResponse> {
  const url = new URL(request.url);
  if (url.hostname === "127.0.0.1") return mfFetch(request);
  workerFetched.push(url.href);
  return new MfResponse("unreachable", { status: 502 });
}

beforeAll(async () => {
  [damaged, intact, catPng] = await Promise.all([
    damagedImages(),
    intactImages(),
    pngBytes(32, 24, [200, 30, 30]),
  ]);
  const cutJpeg = damaged.find((s) => s.name === "JPEG cut at 90 %")!.bytes;
  images = await startImageServer({
    ...imageRoutes(catPng, "internal.example.test"),
    "/cut.jpg": (_q, res) => res.writeHead(200).end(cutJpeg),
  });
  const pinned = createNodeUrlFetcher({
    ...DEFAULT_URL_FETCH,
    allowedPorts: [80, 443, images.port],
    timeoutMs: 1_500,
    resolve: resolveTestName,
    isAllowedAddress: admitLoopbackServer,
  });
  closeFetcher = () => pinned.close();
  const queryUrlFetcher: UrlFetcher = {
    fetchBytes: (url, o) => (queryCalls.push(url), pinned.fetchBytes(url, o)),
  };
  // URL fetching is left at its default (on); only the test server's port is added to the pre-check's.
  stack = await startStack({
    maxUploadBytes: MAX_UPLOAD,
    rateLimit: 1000,
    vars: { URL_FETCH_ALLOWED_PORTS: `80,443,${images.port}` },
    outbound: internet,
    queryUrlFetcher,
  });
  key = await stack.addKey("acme");
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await closeFetcher?.();
  await images?.close();
});

const post = (query: string, body: BodyInit, type: string) =>
  stack.mf.dispatchFetch(`http://gateway/v1/images${query}`, {
    method: "POST",
    body,
    headers: { "content-type": type, authorization: `Bearer ${key}` },
  } as never) as unknown as Promise<Response>;
const postUrl = (url: string, query = "") =>
  post(query, JSON.stringify({ url }), "application/json");

/** The one error body (test/api/harness.ts checks its shape), its message. */
const errorMessage = async (res: Response, status: number, code: string): Promise<string> =>
  (await expectError(res, status, code)).message;

/** Waits for the record's ingest to settle (read from R2, so polling costs no rate-limit tokens). */
async function settled(id: string): Promise<string | undefined> {
  const bucket = await stack.mf.getR2Bucket("IMAGES");
  for (let i = 0; i < 300; i++) {
    const status = (
      (await (await bucket.get(`catalog/acme/${id}.json`))?.json()) as
        { status: string } | undefined
    )?.status;
    if (status === "indexed" || status === "failed") return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

async function r2Snapshot(): Promise<Record<string, string>> {
  const bucket = await stack.mf.getR2Bucket("IMAGES");
  const { objects } = await bucket.list({ prefix: "" });
  return Object.fromEntries(objects.map((o) => [o.key, o.etag]));
}

/** R2 once every ingest queued by earlier tests has settled (their records change until then). */
async function settledSnapshot(): Promise<Record<string, string>> {
  const bucket = await stack.mf.getR2Bucket("IMAGES");
  const { objects } = await bucket.list({ prefix: "catalog/acme/" });
  for (const o of objects)
    expect(await settled(o.key.slice("catalog/acme/".length, -".json".length)), o.key).toMatch(
      /^(indexed|failed)$/,
    );
  return r2Snapshot();
}

describe("uploads on the gateway: the integrity check before R2", () => {
  it("refuses every damaged sample of the shared corpus with 422 invalid_image; R2 is untouched, an image stored under the same id too", async () => {
    const kept = await post("?id=keep.png", catPng as Uint8Array<ArrayBuffer>, "image/png");
    expect(kept.status).toBe(202);
    expect(await settled("keep.png")).toBe("indexed");
    const before = await settledSnapshot();
    for (const s of damaged) {
      for (const query of ["", "?id=keep.png"]) {
        const message = await errorMessage(
          await post(query, s.bytes as Uint8Array<ArrayBuffer>, s.type),
          422,
          "invalid_image",
        );
        expect(message, s.name).toMatch(/damaged|header could not be read/);
      }
    }
    expect(await r2Snapshot()).toEqual(before);
  });

  it("accepts every intact encoder variant and shapes fixture", async () => {
    for (const s of intact)
      expect((await post("", s.bytes as Uint8Array<ArrayBuffer>, s.type)).status, s.name).toBe(202);
  });

  it("checks a 40-megapixel PNG inside the Worker (120 MB inflated and dropped), and refuses it cut short", async () => {
    const png = new Uint8Array(await blackPng(6400, 6250));
    expect(png.length).toBeLessThan(MAX_UPLOAD);
    expect((await post("?id=big.png", png, "image/png")).status).toBe(202);
    await errorMessage(
      await post("?id=big-cut.png", png.subarray(0, png.length - 5000), "image/png"),
      422,
      "invalid_image",
    );
  });

  it("agrees with the same check run in Node on mutated images (workerd's DecompressionStream behaves alike)", async () => {
    const seeds = intact.filter((s) => !s.name.startsWith("shapes fixture")).map((s) => s.bytes);
    const expected = async (bytes: Uint8Array) => {
      if (bytes.length === 0) return 400;
      try {
        acceptImage(bytes, DEFAULT_LIMITS);
        await verifyImageIntegrity(bytes);
        return 202;
      } catch (err) {
        return toApiError(err).status;
      }
    };
    const statuses: number[] = [];
    for (const bytes of fc.sample(mutatedImage(seeds, 2), { numRuns: 60, seed: 20261201 })) {
      const res = await post("", bytes as Uint8Array<ArrayBuffer>, "image/png");
      await res.body?.cancel();
      expect(res.status).toBe(await expected(bytes));
      statuses.push(res.status);
    }
    expect(statuses).toContain(422);
    expect(statuses).toContain(202);
  });
});

const at = (path: string, host = "images.example.test") => `http://${host}:${images.port}${path}`;

/** The record without what differs between two stores of the same bytes (id, times). */
async function recordOf(id: string): Promise<Record<string, unknown>> {
  const obj = await (await stack.mf.getR2Bucket("IMAGES")).get(`catalog/acme/${id}.json`);
  const {
    id: _id,
    createdAt: _c,
    updatedAt: _u,
    ...rest
  } = (await obj!.json()) as Record<string, unknown>;
  return rest;
}

describe("images by URL on the gateway: fetched by the query function (on by default)", () => {
  it("ends in the same state as an upload of the same bytes: stored object, queued and indexed job", async () => {
    const res = await postUrl(at("/hop/1"), "?id=cat-url.png");
    expect([res.status, await res.json()]).toEqual([202, { id: "cat-url.png", status: "queued" }]);
    expect(queryCalls).toEqual([at("/hop/1")]);
    expect(
      (await post("?id=cat-upload.png", catPng as Uint8Array<ArrayBuffer>, "image/png")).status,
    ).toBe(202);
    const bucket = await stack.mf.getR2Bucket("IMAGES");
    for (const id of ["cat-url.png", "cat-upload.png"]) {
      expect(
        new Uint8Array(await (await bucket.get(`images/acme/${id}`))!.arrayBuffer()),
        id,
      ).toEqual(catPng);
      expect(await settled(id), id).toBe("indexed");
    }
    expect(await recordOf("cat-url.png")).toEqual(await recordOf("cat-upload.png"));
    expect(await recordOf("cat-url.png")).toMatchObject({
      status: "indexed",
      bytes: catPng.length,
      width: 32,
      height: 24,
    });
    const regions = await stack.vectors.count("acme", { imageIds: ["cat-url.png"] });
    expect(regions).toBeGreaterThan(0);
    expect(regions).toBe(await stack.vectors.count("acme", { imageIds: ["cat-upload.png"] }));
    expect(workerFetched).toEqual([]);
  });

  it("refuses private literals in the Worker without calling out, and names and redirects into private space in the query function; nothing stored", async () => {
    const before = await settledSnapshot();
    const [calls, hits] = [queryCalls.length, images.hits.length];
    for (const host of [
      "127.0.0.1",
      "[::ffff:127.0.0.1]",
      "0x7f.1",
      "2130706433",
      "0177.0.0.1",
      "169.254.169.254",
      "10.0.0.1",
    ]) {
      expect(
        await errorMessage(await postUrl(at("/cat.png", host)), 400, "url_not_allowed"),
        host,
      ).toMatch(/private, loopback/);
    }
    expect(queryCalls.length).toBe(calls); // literals are judged without a call
    // (The test rule admits 127.0.0.1 only, so these are refused by the default rule's verdict on 10.0.0.5 and ::1.)
    for (const host of ["internal.example.test", "v6-loopback.example.test"]) {
      expect(
        await errorMessage(await postUrl(at("/cat.png", host)), 400, "url_not_allowed"),
        host,
      ).toMatch(/resolves to a private/);
    }
    expect(images.hits.length).toBe(hits); // the pinned fetcher connected to none of them
    for (const path of ["/to-metadata", "/to-private-name", "/to-loopback-v6"]) {
      expect(await errorMessage(await postUrl(at(path)), 400, "url_not_allowed"), path).toMatch(
        /private/,
      );
    }
    expect(workerFetched).toEqual([]);
    expect(await r2Snapshot()).toEqual(before);
  });

  it("caps an endless body (413), times out a trickling one (504), and checks fetched bytes like an upload (422); nothing stored", async () => {
    const before = await settledSnapshot();
    expect(await errorMessage(await postUrl(at("/endless")), 413, "payload_too_large")).toMatch(
      `exceeds ${MAX_UPLOAD} bytes`,
    );
    expect(await errorMessage(await postUrl(at("/trickle")), 504, "url_fetch_timeout")).toMatch(
      /within 1500 ms/,
    );
    expect(await errorMessage(await postUrl(at("/missing.png")), 422, "url_fetch_failed")).toMatch(
      /HTTP 404/,
    );
    await errorMessage(await postUrl(at("/cut.jpg")), 422, "invalid_image");
    await errorMessage(await postUrl(at("/text")), 415, "unsupported_media_type");
    expect(await r2Snapshot()).toEqual(before);
  });
});
