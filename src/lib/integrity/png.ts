/**
 * PNG integrity without decoding pixels: every chunk's length, each critical chunk's CRC-32
 * (crc-32), the IHDR fields, and the image data itself — the IDAT zlib stream is inflated through the runtime's
 * `DecompressionStream("deflate")` (which checks its Adler-32 and refuses a truncated stream or
 * trailing junk) and the output is counted and dropped as it streams: it must hold at least the rows
 * the header declares, each starting with a valid filter byte (extra data is ignored, as libpng does). Memory stays at a few stream chunks,
 * whatever the image size. What it cannot see: a corrupt row whose bytes still inflate (wrong pixels).
 */
import CRC32 from "crc-32";
import { damaged, fourcc, u32be } from "./damaged.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const fail = (reason: string) => damaged("PNG", reason);

interface Header {
  width: number;
  height: number;
  bitsPerPixel: number;
  interlaced: boolean;
  colorType: number;
}

/** Allowed bit depths per colour type (PNG spec, table 11.1) and its channel count. */
const COLOR_TYPES: Record<number, { depths: number[]; channels: number }> = {
  0: { depths: [1, 2, 4, 8, 16], channels: 1 },
  2: { depths: [8, 16], channels: 3 },
  3: { depths: [1, 2, 4, 8], channels: 1 },
  4: { depths: [8, 16], channels: 2 },
  6: { depths: [8, 16], channels: 4 },
};

function readHeader(data: Uint8Array): Header {
  if (data.length !== 13) throw fail("IHDR is not 13 bytes");
  const [width, height] = [u32be(data, 0), u32be(data, 4)];
  const [depth, colorType, compression, filter, interlace] = [
    data[8]!,
    data[9]!,
    data[10]!,
    data[11]!,
    data[12]!,
  ];
  const type = COLOR_TYPES[colorType];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff)
    throw fail("IHDR declares an invalid size");
  if (!type || !type.depths.includes(depth))
    throw fail(`colour type ${colorType} with bit depth ${depth} is invalid`);
  if (compression !== 0 || filter !== 0 || interlace > 1)
    throw fail("IHDR names an unknown compression, filter or interlace method");
  return {
    width,
    height,
    bitsPerPixel: depth * type.channels,
    interlaced: interlace === 1,
    colorType,
  };
}

const KNOWN_CRITICAL = new Set(["IHDR", "PLTE", "IDAT", "IEND"]);

/**
 * The chunks up to the end of the image data, each checked; returns the header and the offset of the
 * first IDAT chunk (the payloads are read again from there, so no per-chunk object is kept: a file
 * of a million tiny chunks costs time, not memory).
 */
function walkChunks(bytes: Uint8Array): { header: Header; firstIdat: number } {
  if (!SIGNATURE.every((b, i) => bytes[i] === b)) throw fail("the signature is wrong");
  let header: Header | undefined;
  let palette = false;
  let firstIdat = -1;
  for (let at = SIGNATURE.length; ; at += 12 + u32be(bytes, at)) {
    // Decoders stop reading after the last IDAT (the first frame's image data): so do we.
    if (firstIdat >= 0 && fourcc(bytes, at + 4) !== "IDAT") break;
    if (at + 12 > bytes.length) throw fail("the file ends before its image data does");
    const length = u32be(bytes, at);
    const type = fourcc(bytes, at + 4);
    if (length > 0x7fffffff || !/^[A-Za-z]{4}$/.test(type))
      throw fail(`chunk at byte ${at} has an invalid length or type`);
    const end = at + 8 + length;
    if (end + 4 > bytes.length) throw fail(`the file ends inside its ${type} chunk`);
    const critical = type.charCodeAt(0) < 0x61;
    // An ancillary chunk that fails its CRC is dropped by decoders, not fatal; a critical one is.
    if (critical && CRC32.buf(bytes.subarray(at + 4, end)) >>> 0 !== u32be(bytes, end))
      throw fail(`chunk ${type} fails its CRC-32`);
    const data = bytes.subarray(at + 8, end);
    if (!header && type !== "IHDR") throw fail("the first chunk is not IHDR");
    if (type === "IHDR") {
      if (header) throw fail("IHDR appears twice");
      header = readHeader(data);
    } else if (type === "PLTE") palette = true;
    else if (type === "IDAT" && firstIdat < 0) firstIdat = at;
    else if (type === "IEND") break;
    else if (critical && !KNOWN_CRITICAL.has(type)) throw fail(`unknown critical chunk ${type}`);
  }
  if (firstIdat < 0) throw fail("it has no IDAT chunk");
  if (header!.colorType === 3 && !palette) throw fail("a palette image without a PLTE chunk");
  return { header: header!, firstIdat };
}

const WRITE_BYTES = 64 * 1024;

/** The payloads of the consecutive IDAT chunks from `at` (already checked), small ones gathered into 64 KiB writes. */
function* idatPayloads(bytes: Uint8Array, at: number): Generator<Uint8Array> {
  let pending = new Uint8Array(WRITE_BYTES);
  let filled = 0;
  for (; at + 8 <= bytes.length && fourcc(bytes, at + 4) === "IDAT"; at += 12 + u32be(bytes, at)) {
    const data = bytes.subarray(at + 8, at + 8 + u32be(bytes, at));
    if (filled + data.length > WRITE_BYTES && filled > 0) {
      yield pending.subarray(0, filled);
      [pending, filled] = [new Uint8Array(WRITE_BYTES), 0];
    }
    if (data.length >= WRITE_BYTES) yield data;
    else {
      pending.set(data, filled);
      filled += data.length;
    }
  }
  if (filled > 0) yield pending.subarray(0, filled);
}

/** Adam7 passes as [x0, y0, dx, dy]. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Rows of the filtered image data: `[count, bytes per row incl. the filter byte]` per (non-empty) pass. */
export function pngRowLayout(
  h: Pick<Header, "width" | "height" | "bitsPerPixel" | "interlaced">,
): Array<[number, number]> {
  const stride = (w: number) => 1 + Math.ceil((w * h.bitsPerPixel) / 8);
  if (!h.interlaced) return [[h.height, stride(h.width)]];
  const passes: Array<[number, number]> = [];
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil(Math.max(0, h.width - x0) / dx);
    const rows = Math.ceil(Math.max(0, h.height - y0) / dy);
    if (w > 0 && rows > 0) passes.push([rows, stride(w)]);
  }
  return passes;
}

/** Consumes inflated bytes, checking each row's filter byte (0–4) until the last row declared. */
class RowCounter {
  private pass = 0;
  private row = 0;
  private inRow = 0;

  constructor(private readonly layout: Array<[number, number]>) {}

  feed(chunk: Uint8Array): void {
    for (let at = 0; at < chunk.length;) {
      const pass = this.layout[this.pass];
      if (!pass) return; // data past the last row: decoders ignore it (libpng warns), so do we
      if (this.inRow === 0 && chunk[at]! > 4)
        throw fail(`row ${this.row} has an invalid filter type ${chunk[at]}`);
      const take = Math.min(pass[1] - this.inRow, chunk.length - at);
      at += take;
      this.inRow += take;
      if (this.inRow < pass[1]) continue;
      this.inRow = 0;
      if (++this.row === pass[0]) [this.pass, this.row] = [this.pass + 1, 0];
    }
  }

  get complete(): boolean {
    return this.pass === this.layout.length;
  }
}

/** Inflates `parts` as one zlib stream, handing the output to `sink` chunk by chunk (nothing kept). */
async function inflateInto(parts: Iterable<Uint8Array>, sink: RowCounter): Promise<void> {
  const stream = new DecompressionStream("deflate");
  const writer = stream.writable.getWriter();
  const writing = (async () => {
    for (const part of parts) await writer.write(part as Uint8Array<ArrayBuffer>);
    await writer.close();
  })();
  writing.catch(() => undefined); // its failure is the reader's too, reported there
  const reader = stream.readable.getReader();
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch {
        throw fail(
          "the image data is not a valid zlib stream (corrupt, truncated or followed by junk)",
        );
      }
      if (result.done) break;
      sink.feed(result.value);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  }
}

export async function verifyPng(bytes: Uint8Array): Promise<void> {
  const { header, firstIdat } = walkChunks(bytes);
  const rows = new RowCounter(pngRowLayout(header));
  await inflateInto(idatPayloads(bytes, firstIdat), rows);
  if (!rows.complete) throw fail("the image data ends before the last row IHDR declares");
}
