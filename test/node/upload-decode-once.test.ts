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
import { createWorkerExtractor, EMBEDDER_INPUT_STAGE, type WorkerExtractor } from "../../src/node/pipeline/worker-extractor.js";
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
  // Early starts off: these tests look at the pixels kept between the check and the extraction.
  extractor = createWorkerExtractor("shapes-tiny", init, { startEarly: false });
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
    const small = createWorkerExtractor("shapes-tiny", init, { budgetBytes: 1024 });
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

describe("extractions started at upload time", () => {
  const other = readFileSync(readShapesSplit(SHAPES_FIXTURE_DIR, 3)[2]!.png);

  it("start when the worker is idle, and the job's extract of equal bytes claims the result", async () => {
    const eager = createWorkerExtractor("shapes-tiny", init);
    try {
      const fromBytes = await eager.extract(png);
      await eager.verifyUpload(png, {});
      // Already handed to the worker: no pixels wait, one extraction does.
      expect(eager.verifiedPixels).toEqual({ entries: 0, bytes: 0 });
      expect(eager.earlyExtractions).toBe(1);
      const claimed = await eager.extract(copy(png));
      expect(eager.earlyExtractions).toBe(0);
      expect(withoutTimings(claimed)).toEqual(withoutTimings(fromBytes));
    } finally {
      await eager.close();
    }
  }, 120_000);

  it("do not start while the worker is busy, and unclaimed ones are bounded", async () => {
    const eager = createWorkerExtractor("shapes-tiny", init);
    try {
      const busy = eager.extract(other);
      await eager.verifyUpload(png, {});
      expect(eager.earlyExtractions).toBe(0);
      expect(eager.verifiedPixels.entries).toBe(1);
      await busy;
      // Three idle-time uploads whose jobs never come: the oldest is dropped, and its bytes decode again.
      for (const bytes of [other, png, copy(other)]) {
        await eager.verifyUpload(bytes, {});
        await eager.extract(new Uint8Array([1, 2, 3])).catch(() => undefined); // waits for the worker, claims nothing
      }
      expect(eager.earlyExtractions).toBe(2);
      expect(eager.verifiedPixels.entries).toBe(1); // png's pixels, kept when the worker was busy
      expect((await eager.extract(copy(other))).regions.length).toBeGreaterThan(0);
      expect(eager.earlyExtractions).toBe(1);
    } finally {
      await eager.close();
    }
  }, 120_000);
});

describe("the Alpha-CLIP input computed on the server thread", () => {
  const manifest = JSON.parse(readFileSync("models/shapes-tiny/manifest.json", "utf8")) as {
    embedder: { imageSize: number; imageMean: number[]; imageStd: number[] };
  };
  const spec = { imageSize: manifest.embedder.imageSize, imageMean: manifest.embedder.imageMean, imageStd: manifest.embedder.imageStd };

  it("gives the result of an extraction that computes it in the worker; only an idle worker's early start splits", async () => {
    const expected = withoutTimings(await extractor.extract(png));
    for (const startEarly of [false, true]) {
      const split = createWorkerExtractor("shapes-tiny", init, { startEarly, embedder: spec });
      try {
        await split.verifyUpload(png, {});
        const got = await split.extract(copy(png));
        expect(EMBEDDER_INPUT_STAGE in got.timings).toBe(startEarly);
        expect(withoutTimings(got)).toEqual(expected);
      } finally {
        await split.close();
      }
    }
  }, 120_000);

  it("is the input the worker embeds (another normalisation changes every vector)", async () => {
    const expected = await extractor.extract(png);
    const skewed = createWorkerExtractor("shapes-tiny", init, { embedder: { ...spec, imageMean: spec.imageMean.map((m) => m + 0.2) } });
    try {
      await skewed.verifyUpload(png, {});
      const got = await skewed.extract(copy(png));
      expect(got.regions.map((r) => r.mask)).toEqual(expected.regions.map((r) => r.mask));
      expect(Array.from(got.imageVector)).not.toEqual(Array.from(expected.imageVector));
    } finally {
      await skewed.close();
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

  it("indexes an upload whose extraction started at upload time, the same as one extracted in its job", async () => {
    const eager = createWorkerExtractor("shapes-tiny", init);
    const dataDir = await mkdtemp(path.join(tmpdir(), "rs-early-"));
    const server = await buildLocalServer(
      { dataDir, limits: {}, apiKeys: {}, ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 }, vectorIndexThreshold: 50_000 },
      // The text tower's pack is the extractor's, or a second upload would re-ingest under a new pack.
      { extractor: eager, text: Object.assign(new FakeTextEmbedder(), { pack: eager.pack }) },
      createLogger("silent"),
    );
    const post = (id: string) =>
      server.app.request(`/v1/images?id=${id}&wait=true`, { method: "POST", headers: { "content-type": "image/png" }, body: png as Uint8Array<ArrayBuffer> });
    try {
      const expected = await extractor.extract(png);
      const res = await post("early");
      expect(res.status).toBe(201);
      expect(eager.earlyExtractions).toBe(0);
      const regions = await server.vectors.listImage("default", "early");
      expect(regions.filter((p) => p.payload.kind === "region").map((p) => p.payload.mask)).toEqual(expected.regions.map((r) => r.mask));
      // The same bytes again need no ingest: the early extraction is left unclaimed (bounded, see EarlyExtractions).
      expect((await post("early")).status).toBe(201);
      expect(eager.earlyExtractions).toBe(1);
    } finally {
      await server.close();
      await eager.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
