/**
 * WebP integrity without decoding: the RIFF size against the file's length (a truncated or cut file
 * disagrees), every chunk inside it, and a valid VP8 or VP8L bitstream header for the image (or the
 * first animation frame). What it cannot see: damage inside the VP8/VP8L data, which carries no
 * checksum; the ingest job still refuses what does not decode.
 */
import { damaged, fourcc, u32le } from "./damaged.js";

const fail = (reason: string) => damaged("WebP", reason);

interface Chunk {
  type: string;
  data: Uint8Array;
}

/** The chunks in `[from, to)`, one at a time (nothing kept per chunk); each must fit (odd sizes are padded to even). */
function* chunks(bytes: Uint8Array, from: number, to: number): Generator<Chunk> {
  for (let at = from; at + 8 <= to;) {
    const size = u32le(bytes, at + 4);
    if (at + 8 + size > to)
      throw fail(`chunk ${fourcc(bytes, at)} runs past the end of its container`);
    yield { type: fourcc(bytes, at), data: bytes.subarray(at + 8, at + 8 + size) };
    at += 8 + size + (size & 1);
  }
}

/** The first chunk, and the first of each type in `wanted`, after checking every chunk's size. */
function survey(
  bytes: Uint8Array,
  from: number,
  to: number,
  wanted: string[],
): { first?: Chunk; found: Map<string, Chunk> } {
  let first: Chunk | undefined;
  const found = new Map<string, Chunk>();
  for (const chunk of chunks(bytes, from, to)) {
    first ??= chunk;
    if (wanted.includes(chunk.type) && !found.has(chunk.type)) found.set(chunk.type, chunk);
  }
  return { first, found };
}

function checkVp8(data: Uint8Array): void {
  if (data.length < 10) throw fail("the VP8 frame header is cut short");
  const tag = data[0]! | (data[1]! << 8) | (data[2]! << 16);
  const [keyFrame, version, shown, firstPartition] = [
    (tag & 1) === 0,
    (tag >> 1) & 7,
    (tag >> 4) & 1,
    tag >> 5,
  ];
  if (!keyFrame || version > 3 || !shown)
    throw fail("the VP8 frame is not a displayable key frame");
  if (data[3] !== 0x9d || data[4] !== 0x01 || data[5] !== 0x2a)
    throw fail("the VP8 start code is wrong");
  if ((data[6]! | (data[7]! << 8)) % 16384 === 0 || (data[8]! | (data[9]! << 8)) % 16384 === 0)
    throw fail("the VP8 frame declares size 0");
  if (firstPartition > data.length - 10) throw fail("the VP8 first partition runs past its chunk");
}

function checkVp8l(data: Uint8Array): void {
  if (data.length < 5 || data[0] !== 0x2f) throw fail("the VP8L signature is wrong");
  if (data[4]! >> 5 !== 0) throw fail("the VP8L version is unknown");
}

const BITSTREAMS = ["VP8 ", "VP8L"];

/** The image bitstream (VP8 or VP8L) among `found`, checked; refused when there is none. */
function checkBitstream(found: Map<string, Chunk>): void {
  const image = found.get("VP8 ") ?? found.get("VP8L");
  if (!image) throw fail("it has no VP8 or VP8L image data");
  if (image.type === "VP8 ") checkVp8(image.data);
  else checkVp8l(image.data);
}

/** Throws the 422 when the container or the bitstream header is damaged. */
export function checkWebp(bytes: Uint8Array): void {
  if (bytes.length < 20 || fourcc(bytes, 0) !== "RIFF" || fourcc(bytes, 8) !== "WEBP")
    throw fail("the RIFF header is wrong");
  const riffEnd = 8 + u32le(bytes, 4);
  if (riffEnd > bytes.length)
    throw fail(
      `the RIFF header declares ${riffEnd} bytes, the file has ${bytes.length} (truncated)`,
    );
  const { first, found } = survey(bytes, 12, riffEnd, [...BITSTREAMS, "ANMF"]);
  if (!first || !["VP8 ", "VP8L", "VP8X"].includes(first.type))
    throw fail("the first chunk is not VP8, VP8L or VP8X");
  if (first.type !== "VP8X") return checkBitstream(new Map([[first.type, first]]));
  if (first.data.length < 10) throw fail("the VP8X header is cut short");
  const animated = (first.data[0]! & 0x02) !== 0;
  if (!animated) return checkBitstream(found);
  const frame = found.get("ANMF");
  if (!frame || frame.data.length < 16) throw fail("an animation without a complete first frame");
  checkBitstream(survey(frame.data, 16, frame.data.length, BITSTREAMS).found);
}
