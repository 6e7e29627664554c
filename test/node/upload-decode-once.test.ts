/**
 * The worker extractor as the local server's upload verifier: each upload is decoded once (the
 * verifier's pixels go to the worker), the result equals an extraction from the bytes, and damaged
 * bytes are still refused before anything is stored.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExtractedImage } from "../../src/lib/services.js";
import { ImageInputError } from "../../src/node/imaging/index.js";
import { createLogger } from "../../src/node/logging.js";
import { createWorkerExtractor, type WorkerExtractor } from "../../src/node/pipeline/worker-extractor.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { damagedImages, type Sample } from "../support/bad-images.js";
import { FakeTextEmbedder } from "../support/fakes.js";
import { readShapesSplit } from "../support/shapes.js";

const init = { packDir: "models/shapes-tiny", session: { intraOpNumThreads: 1, interOpNumThreads: 1 }, extractor: { amg: { pointsPerSide: 4 } } };
const [scene] = readShapesSplit(SHAPES_FIXTURE_DIR, 1);
const png = readFileSync(scene!.png);
const copy = (b: Uint8Array) => new Uint8Array(b); // what the job reads back from the blob store
let extractor: WorkerExtractor;
let damaged: Sample[];

const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof ImageInputError ? e.code : `unexpected ${String(e)}`));
const withoutTimings = ({ timings: _t, ...rest }: ExtractedImage) => rest;

beforeAll(async () => {
  extractor = createWorkerExtractor("shapes-tiny", init);
  damaged = await damagedImages();
}, 120_000);

afterAll(async () => {
  await extractor?.close();
});

describe("worker extractor as the upload verifier", () => {
  it("hands the verified pixels to the extraction, with the same result as extracting the bytes", async () => {
    const fromBytes = await extractor.extract(png);
    await extractor.verifyUpload(png, {});
    expect(extractor.verifiedPixels).toEqual({ entries: 1, bytes: png.length + scene!.width * scene!.height * 3 });
    const fromPixels = await extractor.extract(copy(png));
    expect(extractor.verifiedPixels).toEqual({ entries: 0, bytes: 0 });
    expect(fromPixels.regions.length).toBeGreaterThan(0);
    expect(withoutTimings(fromPixels)).toEqual(withoutTimings(fromBytes));
  }, 120_000);

  it("refuses every damaged sample with invalid_image and keeps nothing", async () => {
    for (const s of damaged) expect(await outcome(extractor.verifyUpload(s.bytes, {})), s.name).toBe("invalid_image");
    expect(extractor.verifiedPixels).toEqual({ entries: 0, bytes: 0 });
  });

  it("checks the extractor's own limits on handed-over pixels, as a decode of the bytes would", async () => {
    const strict = createWorkerExtractor("shapes-tiny", { ...init, extractor: { ...init.extractor, limits: { maxPixels: 1000 } } });
    try {
      await strict.verifyUpload(png, {});
      await expect(strict.extract(copy(png))).rejects.toMatchObject({ code: "image_too_large" });
      await expect(strict.extract(png)).rejects.toMatchObject({ code: "image_too_large" });
    } finally {
      await strict.close();
    }
  }, 120_000);

  it("streams the check instead of keeping pixels that exceed the budget", async () => {
    const small = createWorkerExtractor("shapes-tiny", init, 1024);
    try {
      await small.verifyUpload(png, {});
      expect(small.verifiedPixels).toEqual({ entries: 0, bytes: 0 });
      expect(await outcome(small.verifyUpload(damaged[0]!.bytes, {}))).toBe("invalid_image");
      expect((await small.extract(png)).regions.length).toBeGreaterThan(0);
    } finally {
      await small.close();
    }
  }, 120_000);
});

describe("the local server with the worker extractor", () => {
  it("answers a damaged upload 422 with nothing stored, then indexes an intact one", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "rs-once-"));
    const server = await buildLocalServer(
      { dataDir, limits: {}, apiKeys: {}, ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 }, vectorIndexThreshold: 50_000 },
      { extractor, text: new FakeTextEmbedder() },
      createLogger("silent"),
    );
    const post = (body: Uint8Array, type: string, id: string) =>
      server.app.request(`/v1/images?id=${id}&wait=true`, { method: "POST", headers: { "content-type": type }, body: body as Uint8Array<ArrayBuffer> });
    try {
      for (const [i, s] of damaged.entries()) {
        const res = await post(s.bytes, s.type, `bad-${i}`);
        expect(res.status, s.name).toBe(422);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_image");
      }
      expect(await readdir(dataDir)).not.toContain("blobs");
      expect(await readdir(dataDir)).not.toContain("catalog");
      expect(extractor.verifiedPixels.entries).toBe(0);
      const res = await post(png, "image/png", "good");
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ status: "indexed", width: scene!.width, height: scene!.height });
      expect(extractor.verifiedPixels).toEqual({ entries: 0, bytes: 0 });
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
