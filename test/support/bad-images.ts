/**
 * The shared corpus of the two upload verifiers: the local server's full decode (sharp,
 * `verifyDecodable`) and the gateway's integrity check (src/lib/integrity). Both are asserted to
 * refuse every `damagedImages()` entry with 422 `invalid_image` and to accept every
 * `intactImages()` entry, so the local server and the Worker gateway answer the same bad uploads alike.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { ihdrRgb8, pngChunk, pngFile } from "./png.js";

export interface Sample {
  name: string;
  type: "image/png" | "image/jpeg" | "image/webp";
  bytes: Uint8Array;
}

/** 64×48, a dark box on a textured light background (structure for every encoder to keep). */
function scene(w = 64, h = 48) {
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = 180 + ((i * 37) % 60);
  if (w >= 28 && h >= 28)
    for (let y = 8; y < 28; y++) data.fill(0, (y * w + 8) * 3, (y * w + 28) * 3);
  return sharp(data, { raw: { width: w, height: h, channels: 3 } });
}

const cut = (b: Uint8Array, fraction: number) => b.subarray(0, Math.floor(b.length * fraction));

/** The offset of the first IDAT chunk's data and its length. */
function firstIdat(png: Uint8Array): { data: number; length: number } {
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 8 <= view.length; at += 12 + view.readUInt32BE(at)) {
    if (view.toString("latin1", at + 4, at + 8) === "IDAT")
      return { data: at + 8, length: view.readUInt32BE(at) };
  }
  throw new Error("no IDAT");
}

/** `png` with its image data re-cut into IDAT chunks of `piece` bytes: valid, and a stress for chunk walkers. */
export function splitIdat(png: Uint8Array, piece: number): Uint8Array {
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const before: Buffer[] = [];
  const payload: Buffer[] = [];
  const after: Buffer[] = [];
  for (let at = 8; at + 12 <= view.length; at += 12 + view.readUInt32BE(at)) {
    const chunk = view.subarray(at, at + 12 + view.readUInt32BE(at));
    if (view.toString("latin1", at + 4, at + 8) === "IDAT") payload.push(chunk.subarray(8, -4));
    else (payload.length ? after : before).push(chunk);
  }
  const data = Buffer.concat(payload);
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += piece)
    parts.push(pngChunk("IDAT", data.subarray(at, at + piece)));
  return new Uint8Array(Buffer.concat([view.subarray(0, 8), ...before, ...parts, ...after]));
}

/** A w×h RGB PNG whose zlib stream holds `raw` (filter byte + pixels per row), with valid CRCs. */
const pngFromScanlines = (w: number, h: number, raw: Buffer) =>
  pngFile([
    pngChunk("IHDR", ihdrRgb8(w, h)),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);

export async function damagedImages(): Promise<Sample[]> {
  const jpeg = new Uint8Array(await scene().jpeg({ quality: 95 }).toBuffer());
  const progressive = new Uint8Array(await scene().jpeg({ progressive: true }).toBuffer());
  const png = new Uint8Array(await scene().png().toBuffer());
  const webp = new Uint8Array(await scene().webp({ quality: 80 }).toBuffer());
  const lossless = new Uint8Array(await scene().webp({ lossless: true }).toBuffer());
  const idat = firstIdat(png);
  const flipped = png.slice();
  flipped[idat.data + Math.floor(idat.length / 2)]! ^= 0x10;
  // The same flip with the chunk's CRC recomputed: only the zlib stream (Adler-32) can tell.
  const rechecked = pngFile([
    pngChunk("IHDR", ihdrRgb8(64, 48)),
    pngChunk("IDAT", flipped.subarray(idat.data, idat.data + idat.length)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
  const rows = (h: number, filter = 0) =>
    Buffer.concat(
      Array.from({ length: h }, () => Buffer.from([filter, ...Array(16 * 3).fill(90)])),
    );
  const jpegs: Sample[] = [
    ...[0.5, 0.9, 0.99].map((f) => ({
      name: `JPEG cut at ${f * 100} %`,
      type: "image/jpeg" as const,
      bytes: cut(jpeg, f),
    })),
    {
      name: "JPEG without its EOI marker",
      type: "image/jpeg",
      bytes: jpeg.subarray(0, jpeg.length - 2),
    },
    { name: "progressive JPEG cut at 90 %", type: "image/jpeg", bytes: cut(progressive, 0.9) },
  ];
  const pngs: Sample[] = [
    {
      name: "PNG signature only",
      type: "image/png",
      bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
    },
    ...[0.3, 0.6, 0.9].map((f) => ({
      name: `PNG cut at ${f * 100} %`,
      type: "image/png" as const,
      bytes: cut(png, f),
    })),
    { name: "PNG with a flipped byte in IDAT (CRC-32 fails)", type: "image/png", bytes: flipped },
    {
      name: "PNG with a flipped byte in IDAT and a valid CRC (zlib fails)",
      type: "image/png",
      bytes: new Uint8Array(rechecked),
    },
    {
      name: "PNG declaring 16×8 with 4 rows of data",
      type: "image/png",
      bytes: new Uint8Array(pngFromScanlines(16, 8, rows(4))),
    },
    {
      name: "PNG with filter type 7 on every row",
      type: "image/png",
      bytes: new Uint8Array(pngFromScanlines(16, 8, rows(8, 7))),
    },
  ];
  const webps: Sample[] = [
    ...[0.5, 0.9].map((f) => ({
      name: `lossy WebP cut at ${f * 100} %`,
      type: "image/webp" as const,
      bytes: cut(webp, f),
    })),
    { name: "lossless WebP cut at 90 %", type: "image/webp", bytes: cut(lossless, 0.9) },
    {
      name: "WebP with 100 bytes cut from its middle",
      type: "image/webp",
      bytes: new Uint8Array(Buffer.concat([webp.subarray(0, 200), webp.subarray(300)])),
    },
  ];
  return [...jpegs, ...pngs, ...webps];
}

/** Images that decode: encoder variants (interlaced, 16-bit, palette, grey, alpha, progressive, animated) and the shapes fixtures. */
export async function intactImages(): Promise<Sample[]> {
  const variants: Array<[string, Sample["type"], Promise<Buffer>]> = [
    ["PNG", "image/png", scene().png().toBuffer()],
    ["interlaced PNG", "image/png", scene().png({ progressive: true }).toBuffer()],
    ["16-bit PNG", "image/png", scene().toColourspace("rgb16").png().toBuffer()],
    ["palette PNG", "image/png", scene().png({ palette: true, colours: 16 }).toBuffer()],
    ["grey + alpha PNG", "image/png", scene().greyscale().ensureAlpha(0.5).png().toBuffer()],
    ["1×1 PNG", "image/png", scene(1, 1).png().toBuffer()],
    [
      "PNG with more rows of data than declared (libpng ignores them)",
      "image/png",
      Promise.resolve(
        pngFromScanlines(
          16,
          8,
          Buffer.concat(Array.from({ length: 12 }, () => Buffer.from([0, ...Array(48).fill(90)]))),
        ),
      ),
    ],
    ["baseline JPEG", "image/jpeg", scene().jpeg().toBuffer()],
    ["progressive JPEG", "image/jpeg", scene().jpeg({ progressive: true }).toBuffer()],
    ["mozjpeg JPEG", "image/jpeg", scene().jpeg({ mozjpeg: true }).toBuffer()],
    [
      "grey 4:4:4 JPEG with EXIF",
      "image/jpeg",
      scene()
        .greyscale()
        .jpeg({ chromaSubsampling: "4:4:4" })
        .withMetadata({ orientation: 6 })
        .toBuffer(),
    ],
    ["lossy WebP", "image/webp", scene().webp().toBuffer()],
    ["lossless WebP", "image/webp", scene().webp({ lossless: true }).toBuffer()],
    ["WebP with alpha", "image/webp", scene().ensureAlpha(0.5).webp().toBuffer()],
    [
      "animated WebP",
      "image/webp",
      sharp(Buffer.alloc(16 * 24 * 3, 90), {
        raw: { width: 16, height: 24, channels: 3, pageHeight: 12 },
      })
        .webp()
        .toBuffer(),
    ],
  ];
  const made = await Promise.all(
    variants.map(async ([name, type, bytes]) => ({
      name,
      type,
      bytes: new Uint8Array(await bytes),
    })),
  );
  const split: Sample = {
    name: "PNG with its image data in 7-byte IDAT chunks",
    type: "image/png",
    bytes: splitIdat(made[0]!.bytes, 7),
  };
  return [...made, split, ...shapesFixtures()];
}

function shapesFixtures(): Sample[] {
  const files = readdirSync(SHAPES_FIXTURE_DIR, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".png"))
    .sort();
  return files.map((f) => ({
    name: `shapes fixture ${f}`,
    type: "image/png",
    bytes: new Uint8Array(readFileSync(path.join(SHAPES_FIXTURE_DIR, f))),
  }));
}
