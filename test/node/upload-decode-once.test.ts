/**
 * The upload prefetch on the real model worker, as the local server wires it: each upload is decoded
 * once (the check's pixels go to the worker), the result equals an extraction from the bytes, damaged
 * bytes are still refused before anything is stored, and an idle worker starts at upload time.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptImage, ImageInputError } from "../../src/lib/intake/index.js";
import type { ExtractedImage, IngestJob } from "../../src/lib/services.js";
import { createLogger } from "../../src/node/logging.js";
import {
  createUploadPrefetch,
  EMBEDDER_INPUT_STAGE,
  type UploadPrefetchOptions,
} from "../../src/node/pipeline/upload-prefetch.js";
import {
  createWorkerExtractor,
  type WorkerExtractor,
} from "../../src/node/pipeline/worker-extractor.js";
import type { WorkerInit } from "../../src/node/pipeline/worker-protocol.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { damagedImages, type Sample } from "../support/bad-images.js";
import { FakeTextEmbedder } from "../support/fakes.js";
import { readShapesSplit } from "../support/shapes.js";

const init: WorkerInit = {
  packDir: "models/shapes-tiny",
  session: { intraOpNumThreads: 1, interOpNumThreads: 1 },
  extractor: { amg: { pointsPerSide: 4 } },
};
const [scene] = readShapesSplit(SHAPES_FIXTURE_DIR, 1);
const png = readFileSync(scene!.png);
const copy = (b: Uint8Array) => new Uint8Array(b); // what the job reads back from the blob store
const job = (imageId: string): IngestJob => ({ tenant: "default", imageId });
let worker: WorkerExtractor;
let damaged: Sample[];

const outcome = (p: () => Promise<unknown>) =>
  Promise.resolve()
    .then(p)
    .then(
      () => "ok",
      (e: unknown) => (e instanceof ImageInputError ? e.code : `unexpected ${String(e)}`),
    );
const withoutTimings = ({ timings: _t, ...rest }: ExtractedImage) => rest;

/** A worker of its own with a prefetch on it, closed after `body`. */
async function withPrefetch(
  options: UploadPrefetchOptions,
  body: (p: ReturnType<typeof createUploadPrefetch>, w: WorkerExtractor) => Promise<void>,
  workerInit = init,
) {
  const own = createWorkerExtractor("shapes-tiny", workerInit);
  try {
    await body(createUploadPrefetch(own, options), own);
  } finally {
    await own.close();
  }
}

beforeAll(async () => {
  worker = createWorkerExtractor("shapes-tiny", init);
  damaged = await damagedImages();
}, 120_000);

afterAll(async () => {
  await worker?.close();
});

describe("the upload prefetch keeps the check's pixels for the job", () => {
  // Early starts off: these look at the pixels kept between the check and the job.
  const prefetch = () => createUploadPrefetch(worker, { startEarly: false });

  it("hands them to the extraction, with the same result as extracting the bytes", async () => {
    const p = prefetch();
    const fromBytes = await worker.extract(png);
    const ticket = await p.accept(acceptImage(png));
    expect(p.stats.pixels).toEqual({
      entries: 1,
      bytes: png.length + scene!.width * scene!.height * 3,
    });
    ticket.file(job("scene"));
    const fromPixels = await p.redeem(job("scene"), copy(png));
    expect(p.stats.pixels).toEqual({ entries: 0, bytes: 0 });
    expect(fromPixels!.regions.length).toBeGreaterThan(0);
    expect(withoutTimings(fromPixels!)).toEqual(withoutTimings(fromBytes));
  }, 120_000);

  it("refuses every damaged sample with invalid_image and keeps nothing", async () => {
    const p = prefetch();
    for (const s of damaged)
      expect(await outcome(() => p.accept(acceptImage(s.bytes))), s.name).toBe("invalid_image");
    expect(p.stats.pixels).toEqual({ entries: 0, bytes: 0 });
  });

  it("leaves the worker's own limits checked on handed-over pixels, as a decode of the bytes would", async () => {
    await withPrefetch(
      { startEarly: false },
      async (p, strict) => {
        (await p.accept(acceptImage(png))).file(job("scene"));
        await expect(p.redeem(job("scene"), copy(png))).rejects.toMatchObject({
          code: "image_too_large",
        });
        await expect(strict.extract(png)).rejects.toMatchObject({ code: "image_too_large" });
      },
      { ...init, extractor: { ...init.extractor, limits: { maxPixels: 1000 } } },
    );
  }, 120_000);

  it("checks an upload too large for the budget without keeping its pixels; its job decodes the bytes", async () => {
    const p = createUploadPrefetch(worker, { budgetBytes: 1024 });
    (await p.accept(acceptImage(png))).file(job("scene"));
    expect(p.stats).toEqual({ pixels: { entries: 0, bytes: 0 }, started: 0 });
    expect(await outcome(() => p.accept(acceptImage(damaged[0]!.bytes)))).toBe("invalid_image");
    expect(p.redeem(job("scene"), png)).toBeUndefined();
    expect((await worker.extract(png)).regions.length).toBeGreaterThan(0);
  }, 120_000);
});

describe("extractions started at upload time", () => {
  const other = readFileSync(readShapesSplit(SHAPES_FIXTURE_DIR, 3)[2]!.png);

  it("start when the worker is idle, and the job filed for the upload redeems the result", async () => {
    await withPrefetch({}, async (p, own) => {
      const fromBytes = await own.extract(png);
      const ticket = await p.accept(acceptImage(png));
      // Already handed to the worker: no pixels wait, one extraction does.
      expect(p.stats).toEqual({ pixels: { entries: 0, bytes: 0 }, started: 1 });
      ticket.file(job("scene"));
      const redeemed = await p.redeem(job("scene"), copy(png));
      expect(p.stats.started).toBe(0);
      expect(withoutTimings(redeemed!)).toEqual(withoutTimings(fromBytes));
    });
  }, 120_000);

  it("do not start while the worker is busy, and unredeemed ones are bounded", async () => {
    await withPrefetch({}, async (p, own) => {
      const busy = own.extract(other);
      await p.accept(acceptImage(png));
      expect(p.stats).toEqual({
        pixels: { entries: 1, bytes: png.length + scene!.width * scene!.height * 3 },
        started: 0,
      });
      await busy;
      // Three idle-time uploads whose jobs never come: the oldest is dropped.
      for (const bytes of [other, png, copy(other)]) {
        await p.accept(acceptImage(bytes));
        await own.extract(new Uint8Array([1, 2, 3])).catch(() => undefined); // waits for the worker
      }
      expect(p.stats.started).toBe(2);
      expect(p.stats.pixels.entries).toBe(1); // png's pixels, kept while the worker was busy
    });
  }, 120_000);
});

describe("the Alpha-CLIP input computed on the server thread", () => {
  const manifest = JSON.parse(readFileSync("models/shapes-tiny/manifest.json", "utf8")) as {
    embedder: { imageSize: number; imageMean: number[]; imageStd: number[] };
  };
  const spec = {
    imageSize: manifest.embedder.imageSize,
    imageMean: manifest.embedder.imageMean,
    imageStd: manifest.embedder.imageStd,
  };

  it("gives the result of an extraction that computes it in the worker; only an idle worker's early start splits", async () => {
    const expected = withoutTimings(await worker.extract(png));
    for (const startEarly of [false, true]) {
      await withPrefetch({ startEarly, embedder: spec }, async (p) => {
        (await p.accept(acceptImage(png))).file(job("scene"));
        const got = (await p.redeem(job("scene"), copy(png)))!;
        expect(EMBEDDER_INPUT_STAGE in got.timings).toBe(startEarly);
        expect(withoutTimings(got)).toEqual(expected);
      });
    }
  }, 120_000);

  it("is the input the worker embeds (another normalisation changes every vector)", async () => {
    const expected = await worker.extract(png);
    await withPrefetch(
      { embedder: { ...spec, imageMean: spec.imageMean.map((m) => m + 0.2) } },
      async (p) => {
        (await p.accept(acceptImage(png))).file(job("scene"));
        const got = (await p.redeem(job("scene"), copy(png)))!;
        expect(got.regions.map((r) => r.mask)).toEqual(expected.regions.map((r) => r.mask));
        expect(Array.from(got.imageVector)).not.toEqual(Array.from(expected.imageVector));
      },
    );
  }, 120_000);
});

describe("the local server with the upload prefetch", () => {
  const settings = (dataDir: string) => ({
    dataDir,
    limits: {},
    apiKeys: {},
    ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 },
    vectorIndexThreshold: 50_000,
  });

  it("answers a damaged upload 422 with nothing stored, then indexes an intact one", async () => {
    const prefetch = createUploadPrefetch(worker, { startEarly: false });
    const dataDir = await mkdtemp(path.join(tmpdir(), "rs-once-"));
    const server = await buildLocalServer(
      settings(dataDir),
      { extractor: worker, prefetch, text: new FakeTextEmbedder() },
      createLogger("silent"),
    );
    const post = (body: Uint8Array, type: string, id: string) =>
      server.app.request(`/v1/images?id=${id}&wait=true`, {
        method: "POST",
        headers: { "content-type": type },
        body: body as Uint8Array<ArrayBuffer>,
      });
    try {
      for (const [i, s] of damaged.entries()) {
        const res = await post(s.bytes, s.type, `bad-${i}`);
        expect(res.status, s.name).toBe(422);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
          "invalid_image",
        );
      }
      expect(await readdir(dataDir)).not.toContain("blobs");
      expect(await readdir(dataDir)).not.toContain("catalog");
      expect(prefetch.stats.pixels.entries).toBe(0);
      const res = await post(png, "image/png", "good");
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({
        status: "indexed",
        width: scene!.width,
        height: scene!.height,
      });
      expect(prefetch.stats.pixels).toEqual({ entries: 0, bytes: 0 }); // redeemed by its job
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it("indexes an upload whose extraction started at upload time, the same as one extracted in its job", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "rs-early-"));
    await withPrefetch({}, async (prefetch, eager) => {
      const server = await buildLocalServer(
        settings(dataDir),
        // The text tower's pack is the extractor's, or a second upload would re-ingest under a new pack.
        {
          extractor: eager,
          prefetch,
          text: Object.assign(new FakeTextEmbedder(), { pack: eager.pack }),
        },
        createLogger("silent"),
      );
      const post = (id: string) =>
        server.app.request(`/v1/images?id=${id}&wait=true`, {
          method: "POST",
          headers: { "content-type": "image/png" },
          body: png as Uint8Array<ArrayBuffer>,
        });
      try {
        const expected = await worker.extract(png);
        const res = await post("early");
        expect(res.status).toBe(201);
        expect(prefetch.stats.started).toBe(0);
        const regions = await server.vectors.listImage("default", "early");
        expect(
          regions.filter((p) => p.payload.kind === "region").map((p) => p.payload.mask),
        ).toEqual(expected.regions.map((r) => r.mask));
        // The same bytes again need no ingest: the early extraction is never filed, and stays bounded.
        expect((await post("early")).status).toBe(201);
        expect(prefetch.stats.started).toBe(1);
      } finally {
        await server.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }, 120_000);
});
