/**
 * The upload prefetch on a fake model worker (the real one: upload-decode-once.test.ts): work kept at
 * upload is found by the job it was filed under, never by equal bytes; whatever no job redeems is
 * bounded; the Alpha-CLIP input is computed here only for an extraction started early.
 */
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { acceptImage } from "../../src/lib/intake/index.js";
import type { AcceptedImage, ExtractedImage, IngestJob } from "../../src/lib/services.js";
import type { DecodedImage } from "../../src/node/imaging/index.js";
import { KeptUploads } from "../../src/node/pipeline/kept-uploads.js";
import {
  createUploadPrefetch,
  EMBEDDER_INPUT_STAGE,
} from "../../src/node/pipeline/upload-prefetch.js";
import type { WorkerExtractor } from "../../src/node/pipeline/worker-extractor.js";

/** A worker that answers each request when `answer()` is called; `busy` makes it look occupied. */
class FakeWorker implements WorkerExtractor {
  readonly pack = "fake@1";
  busy = false;
  posted: { image: DecodedImage; byteLength: number; embedderInput?: Float32Array }[] = [];
  private waiting: (() => void)[] = [];

  get inFlight() {
    return this.waiting.length + (this.busy ? 1 : 0);
  }

  extract(): Promise<ExtractedImage> {
    throw new Error("the prefetch never posts bytes");
  }

  extractDecoded(image: DecodedImage, byteLength: number) {
    const request: (typeof this.posted)[number] = { image, byteLength };
    this.posted.push(request);
    const result = new Promise<ExtractedImage>((resolve) =>
      this.waiting.push(() =>
        resolve({
          width: image.width,
          height: image.height,
          imageVector: new Float32Array(1),
          regions: [],
          timings: { n: this.posted.indexOf(request) },
        }),
      ),
    );
    const sendEmbedderInput = (make: () => Float32Array) => ((request.embedderInput = make()), 1);
    return { result, sendEmbedderInput };
  }

  answer(): void {
    for (const done of this.waiting.splice(0)) done();
  }

  async close() {}
}

const png = (w: number, h: number, shade = 90) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: shade, g: 40, b: 200 } } })
    .png()
    .toBuffer()
    .then((b) => new Uint8Array(b));
const job = (imageId: string): IngestJob => ({ tenant: "acme", imageId });
const copy = (b: Uint8Array) => new Uint8Array(b); // what the job reads back from the blob store
const nextTurn = () => new Promise((r) => setImmediate(r));
const spec = { imageSize: 8, imageMean: [0.5, 0.5, 0.5], imageStd: [0.25, 0.25, 0.25] };

async function accepted(w = 16, h = 12, shade = 90): Promise<AcceptedImage> {
  return acceptImage(await png(w, h, shade));
}

describe("upload prefetch: redeemed by the job it was filed under", () => {
  it("starts an idle worker at once, and the filed job redeems that extraction, once", async () => {
    const worker = new FakeWorker();
    const prefetch = createUploadPrefetch(worker);
    const image = await accepted();
    const ticket = await prefetch.accept(image);
    expect(worker.posted).toHaveLength(1);
    expect(prefetch.stats).toEqual({ pixels: { entries: 0, bytes: 0 }, started: 1 });
    ticket.file(job("a"));
    const redeemed = prefetch.redeem(job("a"), copy(image.bytes));
    worker.answer();
    expect(await redeemed).toMatchObject({ width: 16, height: 12, timings: { n: 0 } });
    expect(prefetch.redeem(job("a"), image.bytes)).toBeUndefined();
    expect(prefetch.stats.started).toBe(0);
  });

  it("finds work by its job, not by bytes: equal bytes under another id, or an unfiled ticket, redeem nothing", async () => {
    const worker = new FakeWorker();
    worker.busy = true; // keep the pixels, so each redeem posts them and shows which upload it was
    const prefetch = createUploadPrefetch(worker);
    const image = await accepted();
    const [first, second] = [
      await prefetch.accept(image),
      await prefetch.accept(acceptImage(copy(image.bytes))),
    ];
    await prefetch.accept(acceptImage(copy(image.bytes))); // never filed: no job can redeem it
    first.file(job("a"));
    second.file(job("b"));
    expect(prefetch.redeem(job("c"), image.bytes)).toBeUndefined();
    expect(prefetch.redeem({ tenant: "other", imageId: "a" }, image.bytes)).toBeUndefined();
    const b = prefetch.redeem(job("b"), copy(image.bytes));
    const a = prefetch.redeem(job("a"), copy(image.bytes));
    worker.answer();
    expect([(await b)?.timings, (await a)?.timings]).toEqual([{ n: 0 }, { n: 1 }]);
    expect(prefetch.stats.pixels.entries).toBe(1); // the unfiled one, until newer uploads need its room
  });

  it("redeems nothing when the stored bytes are no longer the accepted ones (a later upload replaced them)", async () => {
    const worker = new FakeWorker();
    const prefetch = createUploadPrefetch(worker);
    const ticket = await prefetch.accept(await accepted(16, 12, 10));
    ticket.file(job("a"));
    expect(prefetch.redeem(job("a"), (await accepted(16, 12, 250)).bytes)).toBeUndefined();
    expect(prefetch.stats.started).toBe(0);
  });

  it("files a newer upload of the same id over the older one", async () => {
    const worker = new FakeWorker();
    worker.busy = true;
    const prefetch = createUploadPrefetch(worker);
    const [older, newer] = [await accepted(16, 12, 10), await accepted(16, 12, 250)];
    (await prefetch.accept(older)).file(job("a"));
    (await prefetch.accept(newer)).file(job("a"));
    expect(prefetch.stats.pixels.entries).toBe(1);
    expect(prefetch.redeem(job("a"), older.bytes)).toBeUndefined(); // the older one is gone
  });
});

describe("upload prefetch: decode once, start early only into an idle worker", () => {
  it("keeps the pixels while the worker is busy and posts them when the job redeems them", async () => {
    const worker = new FakeWorker();
    worker.busy = true;
    const prefetch = createUploadPrefetch(worker, { embedder: spec });
    const image = await accepted(16, 12);
    const ticket = await prefetch.accept(image);
    expect(worker.posted).toHaveLength(0);
    expect(prefetch.stats).toEqual({
      pixels: { entries: 1, bytes: image.bytes.length + 16 * 12 * 3 },
      started: 0,
    });
    ticket.file(job("a"));
    const redeemed = prefetch.redeem(job("a"), copy(image.bytes));
    expect(worker.posted.map((p) => [p.image.width, p.image.height, p.byteLength])).toEqual([
      [16, 12, image.bytes.length],
    ]);
    worker.answer();
    await nextTurn();
    // Not started early: the worker computes the Alpha-CLIP input itself.
    expect(worker.posted[0]!.embedderInput).toBeUndefined();
    expect(EMBEDDER_INPUT_STAGE in (await redeemed)!.timings).toBe(false);
    expect(prefetch.stats.pixels).toEqual({ entries: 0, bytes: 0 });
  });

  it("computes the Alpha-CLIP input on this thread, on the next turn, for an early start only", async () => {
    const worker = new FakeWorker();
    const prefetch = createUploadPrefetch(worker, { embedder: spec });
    const image = await accepted(16, 12);
    const ticket = await prefetch.accept(image);
    expect(worker.posted[0]!.embedderInput).toBeUndefined(); // `accept` returned first
    await nextTurn();
    expect(worker.posted[0]!.embedderInput).toHaveLength(3 * 8 * 8);
    ticket.file(job("a"));
    const redeemed = prefetch.redeem(job("a"), copy(image.bytes));
    worker.answer();
    expect((await redeemed)?.timings).toEqual({ n: 0, [EMBEDDER_INPUT_STAGE]: 1 });
  });

  it("does not start early when told not to", async () => {
    const worker = new FakeWorker();
    const prefetch = createUploadPrefetch(worker, { startEarly: false });
    await prefetch.accept(await accepted());
    expect(worker.posted).toHaveLength(0);
    expect(prefetch.stats.pixels.entries).toBe(1);
  });

  it("refuses damaged bytes with invalid_image and keeps nothing", async () => {
    const prefetch = createUploadPrefetch(new FakeWorker());
    const bytes = await png(64, 48);
    const cut = acceptImage(bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await expect(prefetch.accept(cut)).rejects.toMatchObject({ code: "invalid_image" });
    expect(prefetch.stats).toEqual({ pixels: { entries: 0, bytes: 0 }, started: 0 });
  });

  it("checks an upload too large for the budget without keeping it: its ticket files nothing", async () => {
    const worker = new FakeWorker();
    const prefetch = createUploadPrefetch(worker, { budgetBytes: 100 });
    const image = await accepted();
    (await prefetch.accept(image)).file(job("a"));
    expect(worker.posted).toHaveLength(0);
    expect(prefetch.redeem(job("a"), image.bytes)).toBeUndefined();
    const bytes = await png(64, 48);
    await expect(
      prefetch.accept(acceptImage(bytes.subarray(0, Math.floor(bytes.length * 0.6)))),
    ).rejects.toMatchObject({ code: "invalid_image" });
  });
});

describe("upload prefetch: what no job redeems is bounded", () => {
  it("keeps at most `maxStarted` early extractions; the oldest is dropped, filed or not", async () => {
    const worker = new FakeWorker();
    const prefetch = createUploadPrefetch(worker, { maxStarted: 2 });
    const images = [
      await accepted(16, 12, 10),
      await accepted(16, 12, 20),
      await accepted(16, 12, 30),
    ];
    for (const [i, image] of images.entries()) {
      (await prefetch.accept(image)).file(job(`i${i}`));
      worker.answer(); // idle again for the next upload
    }
    expect(prefetch.stats.started).toBe(2);
    expect(prefetch.redeem(job("i0"), images[0]!.bytes)).toBeUndefined();
    expect(prefetch.redeem(job("i2"), images[2]!.bytes)).toBeDefined();
  });

  it("keeps pixels within the budget, dropping the oldest first", async () => {
    const worker = new FakeWorker();
    worker.busy = true;
    const image = await accepted(16, 12, 10);
    const size = image.bytes.length + 16 * 12 * 3;
    const prefetch = createUploadPrefetch(worker, { budgetBytes: 2 * size + size / 2 });
    for (let i = 0; i < 4; i++)
      (await prefetch.accept(acceptImage(copy(image.bytes)))).file(job(`i${i}`));
    expect(prefetch.stats.pixels).toEqual({ entries: 2, bytes: 2 * size });
    expect(prefetch.redeem(job("i1"), image.bytes)).toBeUndefined();
    expect(prefetch.redeem(job("i3"), image.bytes)).toBeDefined();
  });
});

describe("KeptUploads", () => {
  const pixels = (w: number, h: number): DecodedImage => ({
    format: "png",
    width: w,
    height: h,
    data: new Uint8Array(w * h * 3),
  });
  const bytes = (n: number) => new Uint8Array(n);

  it("does not decode what cannot fit the whole budget", async () => {
    const kept = new KeptUploads(100, 2);
    let decoded = 0;
    expect(
      await kept.keepPixels(bytes(10), 310, async () => (decoded++, pixels(10, 10))),
    ).toBeUndefined();
    expect(decoded).toBe(0);
    expect(kept.stats.pixels.bytes).toBe(0);
  });

  it("reserves room for decodes in flight, so concurrent uploads cannot overshoot the budget", async () => {
    const kept = new KeptUploads(100, 2);
    let release!: () => void;
    const slow = kept.keepPixels(
      bytes(10),
      58,
      () => new Promise<DecodedImage>((r) => (release = () => r(pixels(4, 4)))),
    );
    expect(await kept.keepPixels(bytes(10), 58, async () => pixels(4, 4))).toBeUndefined(); // 58 + 58 > 100
    release();
    expect(await slow).toBeDefined();
    expect(kept.stats.pixels).toEqual({ entries: 1, bytes: 58 });
  });

  it("frees the room of a decode that fails", async () => {
    const kept = new KeptUploads(100, 2);
    await expect(
      kept.keepPixels(bytes(10), 58, () => Promise.reject(new Error("corrupt"))),
    ).rejects.toThrow("corrupt");
    expect(kept.stats.pixels).toEqual({ entries: 0, bytes: 0 });
  });

  it("does not file an entry already dropped", async () => {
    const kept = new KeptUploads(60, 2);
    const first = (await kept.keepPixels(bytes(10), 58, async () => pixels(4, 4)))!;
    await kept.keepPixels(bytes(10), 58, async () => pixels(4, 4)); // drops `first` to make room
    kept.file(first, "acme/a");
    expect(kept.take("acme/a")).toBeUndefined();
  });
});
