/**
 * JPEG integrity without decoding: the marker segments from SOI to EOI, each length inside the file;
 * SOF, SOS, DHT, DQT and DRI checked for consistent lengths and fields; every scan's entropy-coded
 * data scanned (byte stuffing, restart markers in sequence) to the marker that ends it. A truncated
 * file has no EOI and is refused. What it cannot see: flipped bits inside the entropy-coded data
 * (there is no checksum; only a Huffman decode would notice), which the ingest job still refuses.
 */
import { damaged, u16be } from "./damaged.js";

const fail = (reason: string) => damaged("JPEG", reason);

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DHT = 0xc4;
const DQT = 0xdb;
const DRI = 0xdd;
const isRst = (m: number) => m >= 0xd0 && m <= 0xd7;
/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== DHT && m !== 0xc8 && m !== 0xcc;
/** Markers with a length field that we skip unchecked: DAC, DNL, DHP, EXP, APPn, JPGn, COM. */
const isSkippable = (m: number) =>
  m === 0xcc || (m >= 0xdc && m <= 0xdf && m !== DRI) || (m >= 0xe0 && m <= 0xfe);

interface State {
  components: Set<number> | undefined;
  scans: number;
}

/** Throws the 422 when the segment structure is damaged. */
export function checkJpeg(bytes: Uint8Array): void {
  if (bytes[0] !== 0xff || bytes[1] !== SOI) throw fail("it does not start with SOI");
  const state: State = { components: undefined, scans: 0 };
  for (let at = 2; ;) {
    if (at >= bytes.length) throw fail("the file ends before its end-of-image marker");
    if (bytes[at] !== 0xff) throw fail(`no marker at byte ${at}`);
    while (bytes[at + 1] === 0xff) at++; // fill bytes
    const marker = bytes[at + 1];
    if (marker === undefined) throw fail("the file ends before its end-of-image marker");
    if (marker === EOI) {
      if (state.scans === 0) throw fail("it has no scan");
      return;
    }
    if (marker === 0x01 || isRst(marker)) {
      at += 2; // standalone markers
      continue;
    }
    if (at + 4 > bytes.length) throw fail("the file ends inside a marker segment");
    const length = u16be(bytes, at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length)
      throw fail(`segment 0x${marker.toString(16)} runs past the end of the file`);
    checkSegment(marker, bytes.subarray(at + 4, end), state);
    at = marker === SOS ? scanEnd(bytes, end) : end;
  }
}

function checkSegment(marker: number, body: Uint8Array, state: State): void {
  if (isSof(marker)) {
    if (state.components) throw fail("it has two frame headers");
    const count = body[5] ?? 0;
    if (body.length !== 6 + 3 * count || count === 0)
      throw fail("its frame header has an inconsistent length");
    if (u16be(body, 3) === 0) throw fail("its frame header declares width 0");
    state.components = new Set(Array.from({ length: count }, (_, i) => body[6 + 3 * i]!));
  } else if (marker === SOS) {
    if (!state.components) throw fail("a scan comes before the frame header");
    const count = body[0] ?? 0;
    if (count < 1 || count > 4 || body.length !== 4 + 2 * count)
      throw fail("a scan header has an inconsistent length");
    for (let i = 0; i < count; i++)
      if (!state.components.has(body[1 + 2 * i]!))
        throw fail("a scan names a component the frame lacks");
    state.scans++;
  } else if (marker === DHT) checkTables(body, huffmanTableLength, "Huffman");
  else if (marker === DQT)
    checkTables(body, (b, at) => 1 + 64 * ((b[at]! >> 4) + 1), "quantisation");
  else if (marker === DRI) {
    if (body.length !== 2) throw fail("its restart interval segment has the wrong length");
  } else if (!isSkippable(marker)) throw fail(`it has an unknown marker 0x${marker.toString(16)}`);
}

function huffmanTableLength(b: Uint8Array, at: number): number {
  if (at + 17 > b.length || b[at]! >> 4 > 1) return Infinity;
  let symbols = 0;
  for (let i = 1; i <= 16; i++) symbols += b[at + i]!;
  return symbols > 256 ? Infinity : 17 + symbols;
}

/** A DHT/DQT body is a run of tables that must end exactly at the segment's end. */
function checkTables(
  body: Uint8Array,
  tableLength: (b: Uint8Array, at: number) => number,
  what: string,
): void {
  let at = 0;
  while (at < body.length) at += tableLength(body, at);
  if (at !== body.length || body.length === 0)
    throw fail(`a ${what} table segment is inconsistent`);
}

/** The offset of the marker after a scan's entropy-coded data (which starts at `from`). */
function scanEnd(bytes: Uint8Array, from: number): number {
  let nextRst = 0;
  for (let at = bytes.indexOf(0xff, from); at !== -1; at = bytes.indexOf(0xff, at + 1)) {
    const next = bytes[at + 1];
    if (next === undefined) break;
    if (next === 0x00 || next === 0xff) continue; // stuffed byte, or fill before a marker
    if (!isRst(next)) return at;
    if (next - 0xd0 !== nextRst) throw fail("its restart markers are out of sequence");
    nextRst = (nextRst + 1) & 7;
  }
  throw fail("the file ends inside the compressed data (no end-of-image marker)");
}
