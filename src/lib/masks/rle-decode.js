// @ts-check
/**
 * COCO compressed RLE → mask: the decoding half of `rle.ts`, kept as plain JavaScript (types in
 * JSDoc, checked by tsc) so that the search page's browser code imports this very file (served at
 * /page/masks/rle-decode.js, see src/lib/api/page.ts) and the server code through `rle.ts`. It must
 * stay browser-safe: no imports at run time, no Node APIs. The string format is described in rle.ts.
 */

/** Each 5-bit group is stored as the char `CHAR_BASE + bits`. */
export const CHAR_BASE = 48;
/** Set in a group when more groups of the same count follow. */
export const MORE_BIT = 0x20;
/** The sign bit of a count's last group. */
export const SIGN_BIT = 0x10;
const PAYLOAD_MASK = 0x1f;

/**
 * pycocotools' `rleFrString`: compressed ASCII string → run counts. Throws on malformed input.
 * Arithmetic instead of bit shifts keeps counts above 2^31 exact.
 * @param {string} s
 * @returns {number[]}
 */
export function rleCountsFromString(s) {
  /** @type {number[]} */
  const counts = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error(`RLE string ends inside a count at char ${p}`);
      const c = s.charCodeAt(p) - CHAR_BASE;
      if (c < 0 || c > 63)
        throw new Error(`RLE string has an invalid char ${JSON.stringify(s[p])} at ${p}`);
      x += (c & PAYLOAD_MASK) * 32 ** k;
      more = (c & MORE_BIT) !== 0;
      p++;
      k++;
      // Sign-extend: setting all bits above 5k equals subtracting 2^(5k).
      if (!more && c & SIGN_BIT) x -= 32 ** k;
    }
    const m = counts.length;
    if (m > 2) x += counts[m - 2] ?? 0;
    if (x < 0) throw new Error(`RLE string decodes to a negative run (${x}) at count ${m}`);
    counts.push(x);
  }
  return counts;
}

/**
 * Decode a COCO compressed RLE into a row-major `[height, width]` 0/1 mask.
 * @param {import("./types.js").CocoRle} rle
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function rleDecodeToRowMajor(rle) {
  const [height, width] = rle.size;
  assertSize(height, width);
  const counts = rleCountsFromString(rle.counts);
  assertCountsCover(counts, height, width);
  const mask = new Uint8Array(height * width);
  let pos = 0; // column-major run position
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i] ?? 0;
    if (i % 2 === 1 && run > 0) fillColumnMajorRun(mask, height, width, pos, run);
    pos += run;
  }
  return mask;
}

/**
 * Set `run` pixels to 1 starting at column-major position `start` of a row-major mask.
 * @param {Uint8Array} mask
 * @param {number} height
 * @param {number} width
 * @param {number} start
 * @param {number} run
 */
function fillColumnMajorRun(mask, height, width, start, run) {
  let x = Math.floor(start / height);
  let y = start - x * height;
  for (let n = 0; n < run; n++) {
    mask[y * width + x] = 1;
    if (++y === height) {
      y = 0;
      x++;
    }
  }
}

/**
 * Throws unless `height × width` is a valid mask size (non-negative integers).
 * @param {number} height
 * @param {number} width
 */
export function assertSize(height, width) {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw new Error(`invalid mask size ${height}×${width}`);
  }
}

/**
 * @param {readonly number[]} counts
 * @param {number} height
 * @param {number} width
 */
function assertCountsCover(counts, height, width) {
  let total = 0;
  for (const c of counts) total += c;
  if (total !== height * width) {
    throw new Error(
      `RLE runs cover ${total} pixels, expected ${height}×${width} = ${height * width}`,
    );
  }
}
