/**
 * Hostile images (issue 8 item 2) against the local server as `npm start` builds it — header-first
 * limits, the upload verifier, the real decoder (sharp) behind a model-free extractor: pixel bombs,
 * animated images, truncated files, EXIF rotation and formats outside the allowlist.
 */
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rleDecodeToRowMajor } from "../../src/lib/masks/rle-decode.js";
import { expectError } from "../api/harness.js";
import { DecodingExtractor } from "../support/decoding-extractor.js";
import { sha256 } from "../support/fakes.js";
import { ihdrRgb8, pngChunk, pngFile } from "../support/png.js";
import { startLocal, type Local } from "./local.js";

let local: Local;
let extractor: DecodingExtractor;
beforeEach(async () => {
  extractor = new DecodingExtractor();
  local = await startLocal(extractor);
});
afterEach(() => local.close());

const post = (bytes: Uint8Array, query = "", type = "image/png") =>
  local.app.request(`/v1/images${query}`, {
    method: "POST",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": type },
  });

/** Everything the server holds for the default tenant: records, and per record its blob and points. */
async function snapshot() {
  const records = await local.services.catalog.list("default");
  const blobs = await Promise.all(records.map((r) => local.services.blobs.get("default", r.id)));
  return { records, blobs, points: await local.vectors.count("default") };
}

/** A w×h PNG that is black inside [x, y, w, h] and white elsewhere. */
function boxImage(w: number, h: number, box: [number, number, number, number]) {
  const data = Buffer.alloc(w * h * 3, 255);
  for (let y = box[1]; y < box[1] + box[3]; y++)
    data.fill(0, (y * w + box[0]) * 3, (y * w + box[0] + box[2]) * 3);
  return sharp(data, { raw: { width: w, height: h, channels: 3 } });
}

type Region = { bbox: number[]; area: number; mask: { size: number[]; counts: string } };
const regionsOf = async (id: string) =>
  ((await (await local.app.request(`/v1/images/${id}/regions`)).json()) as { regions: Region[] })
    .regions;

describe("pixel bombs", () => {
  it("a ~600 KB PNG declaring 20000×20000 is refused from its header (413), RSS grows < 100 MB, nothing stored", async () => {
    // A real, compressible IDAT stream (random bits: ~1 bit of entropy per byte) behind a huge IHDR.
    const raw = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < raw.length; i++) raw[i] = Math.random() < 0.5 ? 0 : 1;
    const ihdr = ihdrRgb8(20_000, 20_000);
    const bomb = pngFile([
      pngChunk("IHDR", ihdr),
      pngChunk("IDAT", deflateSync(raw)),
      pngChunk("IEND", Buffer.alloc(0)),
    ]);
    expect(bomb.length).toBeGreaterThan(400_000);
    expect(bomb.length).toBeLessThan(900_000);

    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    const err = await expectError(await post(bomb, "?wait=true"), 413, "image_too_large");
    const grown = process.memoryUsage().rss - before;
    expect(err.message).toMatch(/20000×20000/);
    expect(grown).toBeLessThan(100 * 1024 * 1024);
    expect(await snapshot()).toEqual({ records: [], blobs: [], points: 0 });
    expect(extractor.calls).toBe(0);
  });
});

describe("animated images: the first frame only (DECODED_FRAMES = 1)", () => {
  it("an animated WebP is indexed at its frame size from its first frame", async () => {
    // 40 frames of 16×12; frame 0 black, the others distinct greys (identical frames would be merged).
    const frames = Buffer.concat(
      Array.from({ length: 40 }, (_, i) => Buffer.alloc(16 * 12 * 3, i === 0 ? 0 : 100 + i * 3)),
    );
    const webp = await sharp(frames, {
      raw: { width: 16, height: 12 * 40, channels: 3, pageHeight: 12 },
    })
      .webp({ lossless: true })
      .toBuffer();
    expect((await sharp(webp).metadata()).pages).toBe(40);
    const res = await post(webp, "?id=anim.webp&wait=true", "image/webp");
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ width: 16, height: 12, status: "indexed" });
    expect([extractor.last!.width, extractor.last!.height]).toEqual([16, 12]);
    expect(extractor.last!.data.every((v) => v === 0)).toBe(true);
  });

  it("an APNG is decoded from its default image only (the fdAT frames are never read)", async () => {
    const ihdr = ihdrRgb8(8, 6);
    const scanlines = (v: number) =>
      deflateSync(
        Buffer.concat(Array.from({ length: 6 }, () => Buffer.from([0, ...Array(8 * 3).fill(v)]))),
      );
    const fctl = (seq: number) => {
      const b = Buffer.alloc(26);
      b.writeUInt32BE(seq, 0);
      b.writeUInt32BE(8, 4);
      b.writeUInt32BE(6, 8);
      b.writeUInt16BE(1, 20);
      b.writeUInt16BE(10, 22);
      return pngChunk("fcTL", b);
    };
    const actl = Buffer.alloc(8);
    actl.writeUInt32BE(2, 0);
    const seq = Buffer.alloc(4);
    seq.writeUInt32BE(2, 0);
    const apng = pngFile([
      pngChunk("IHDR", ihdr),
      pngChunk("acTL", actl),
      fctl(0),
      pngChunk("IDAT", scanlines(0)),
      fctl(1),
      pngChunk("fdAT", Buffer.concat([seq, scanlines(255)])),
      pngChunk("IEND", Buffer.alloc(0)),
    ]);
    const res = await post(apng, "?id=anim.png&wait=true");
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ width: 8, height: 6 });
    expect(extractor.last!.data.every((v) => v === 0)).toBe(true);
  });
});

describe("truncated and corrupt files", () => {
  it("a truncated JPEG → 422 before anything is stored; an image already stored under that id is untouched", async () => {
    const jpeg = await boxImage(64, 48, [8, 8, 20, 20]).jpeg({ quality: 95 }).toBuffer();
    expect((await post(jpeg, "?id=photo&wait=true", "image/jpeg")).status).toBe(201);
    const before = await snapshot();
    const calls = extractor.calls;
    for (const frac of [0.5, 0.9, 0.99]) {
      const cut = jpeg.subarray(0, Math.floor(jpeg.length * frac));
      for (const query of ["?id=photo&wait=true", "?id=photo", "?wait=true", ""]) {
        await expectError(await post(cut, query, "image/jpeg"), 422, "invalid_image");
      }
    }
    expect(await snapshot()).toEqual(before);
    expect(extractor.calls).toBe(calls);
  });
});

describe("EXIF orientation", () => {
  // Stored 60×40 with a black 20×20 square at the stored top-left.
  const cases = [
    { orientation: 6, box: [20, 0, 20, 20] }, // rotate 90° clockwise to view: top-left → top-right
    { orientation: 8, box: [0, 40, 20, 20] }, // rotate 90° counter-clockwise: top-left → bottom-left
    { orientation: 3, box: [40, 20, 20, 20] }, // rotate 180°: top-left → bottom-right (no swap)
  ];
  for (const { orientation, box } of cases) {
    it(`orientation ${orientation}: record, masks and the object's box are in upright coordinates`, async () => {
      const jpeg = await boxImage(60, 40, [0, 0, 20, 20])
        .jpeg({ quality: 100 })
        .withMetadata({ orientation })
        .toBuffer();
      const [w, h] = orientation === 3 ? [60, 40] : [40, 60];
      const res = await post(jpeg, `?id=exif${orientation}&wait=true`, "image/jpeg");
      expect(await res.json()).toMatchObject({ status: "indexed", width: w, height: h });
      const regions = await regionsOf(`exif${orientation}`);
      for (const r of regions) expect(r.mask.size).toEqual([h, w]);
      const dark = regions.find((r) => r.area < (w * h) / 2)!;
      for (let i = 0; i < 4; i++) expect(Math.abs(dark.bbox[i]! - box[i]!)).toBeLessThanOrEqual(1);
      // The mask itself sits there too: its pixel at the box centre is set, the opposite corner's not.
      const mask = rleDecodeToRowMajor(dark.mask as never);
      expect(mask[(box[1]! + 10) * w + box[0]! + 10]).toBe(1);
      expect(mask[(h - 1 - box[1]! - 10) * w + (w - 1 - box[0]! - 10)]).toBe(0);
    });
  }
});

describe("formats outside the allowlist → 415, nothing stored", () => {
  const small = () => boxImage(16, 16, [0, 0, 8, 8]);
  const heicHeader = Buffer.concat([
    Buffer.from([0, 0, 0, 24]),
    Buffer.from("ftypheic\0\0\0\0mif1heic", "latin1"),
    Buffer.alloc(64),
  ]);
  const bmp = Buffer.concat([Buffer.from("BM", "latin1"), Buffer.alloc(70)]);
  const svg = Buffer.from(
    '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
  );
  const formats: [string, () => Promise<Buffer> | Buffer][] = [
    ["GIF", () => small().gif().toBuffer()],
    ["TIFF", () => small().tiff().toBuffer()],
    ["AVIF", () => small().avif().toBuffer()],
    ["HEIC", () => heicHeader],
    ["BMP", () => bmp],
    ["SVG", () => svg],
  ];
  for (const [name, make] of formats) {
    it(`${name}, whatever Content-Type claims`, async () => {
      const bytes = new Uint8Array(await make());
      for (const type of ["image/png", "image/jpeg", "image/webp"])
        await expectError(await post(bytes, "?wait=true", type), 415, "unsupported_media_type");
      expect(await snapshot()).toEqual({ records: [], blobs: [], points: 0 });
      expect(await local.services.blobs.get("default", sha256(bytes))).toBeNull();
    });
  }
});
