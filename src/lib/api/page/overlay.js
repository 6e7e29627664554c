// @ts-check
/**
 * The mask overlay of a result card (browser): the region's COCO RLE decoded by src/lib/masks (the
 * very module the server uses) and drawn on a canvas — tint inside, a solid outline at the edge, the
 * rest dimmed. No DOM lookups, so tests run it in Node with a stand-in canvas.
 */
import { rleDecodeToRowMajor } from "../../masks/rle-decode.js";

/** RGBA of a pixel inside the mask, on its edge, and outside it. */
const TINT = [0, 190, 255, 80];
const OUTLINE = [255, 40, 160, 255];
const DIM = [0, 0, 0, 110];

/**
 * Draws the mask on the canvas at most maxSide pixels on its longest side (nearest sampling keeps the
 * cost bounded for large photos): outside dimmed, inside tinted, the edge outlined thick enough to
 * survive the card's downscaling. Returns the number of canvas pixels inside the mask.
 * @param {HTMLCanvasElement} canvas
 * @param {import("../../masks/types.js").CocoRle} rle
 * @param {number} maxSide
 */
export function drawMaskOverlay(canvas, rle, maxSide) {
  const [h, w] = rle.size;
  const mask = rleDecodeToRowMajor(rle);
  const scale = Math.min(1, maxSide / Math.max(h, w));
  const cw = Math.max(1, Math.round(w * scale));
  const ch = Math.max(1, Math.round(h * scale));
  const inside = new Uint8Array(cw * ch);
  for (let cy = 0; cy < ch; cy++) {
    const sy = Math.min(h - 1, Math.floor((cy + 0.5) / scale));
    for (let cx = 0; cx < cw; cx++) {
      const sx = Math.min(w - 1, Math.floor((cx + 0.5) / scale));
      inside[cy * cw + cx] = mask[sy * w + sx] ?? 0;
    }
  }
  const outline = dilate(
    edges(inside, cw, ch),
    cw,
    ch,
    Math.max(1, Math.round(Math.max(cw, ch) / 200)),
  );
  canvas.width = cw;
  canvas.height = ch;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2d canvas context");
  const img = ctx.createImageData(cw, ch);
  let count = 0;
  for (let i = 0; i < cw * ch; i++) {
    if (inside[i]) count++;
    img.data.set(outline[i] ? OUTLINE : inside[i] ? TINT : DIM, i * 4);
  }
  ctx.putImageData(img, 0, 0);
  return count;
}

/**
 * The inside pixels that have an outside 4-neighbour.
 * @param {Uint8Array} inside
 * @param {number} cw
 * @param {number} ch
 */
function edges(inside, cw, ch) {
  const out = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++)
      out[y * cw + x] = inside[y * cw + x] && isEdge(inside, cw, ch, x, y) ? 1 : 0;
  }
  return out;
}

/**
 * Square dilation by r pixels, as two separable passes (rows, then columns).
 * @param {Uint8Array} src
 * @param {number} cw
 * @param {number} ch
 * @param {number} r
 */
function dilate(src, cw, ch, r) {
  const tmp = new Uint8Array(cw * ch);
  const out = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      if (!src[y * cw + x]) continue;
      for (let dx = Math.max(0, x - r); dx <= Math.min(cw - 1, x + r); dx++) tmp[y * cw + dx] = 1;
    }
  }
  for (let x = 0; x < cw; x++) {
    for (let y = 0; y < ch; y++) {
      if (!tmp[y * cw + x]) continue;
      for (let dy = Math.max(0, y - r); dy <= Math.min(ch - 1, y + r); dy++) out[dy * cw + x] = 1;
    }
  }
  return out;
}

/**
 * An inside pixel with an outside 4-neighbour (image borders count as outside).
 * @param {Uint8Array} inside
 * @param {number} cw
 * @param {number} ch
 * @param {number} x
 * @param {number} y
 */
function isEdge(inside, cw, ch, x, y) {
  const v = inside[y * cw + x];
  const up = y > 0 ? inside[(y - 1) * cw + x] : 0;
  const down = y < ch - 1 ? inside[(y + 1) * cw + x] : 0;
  const left = x > 0 ? inside[y * cw + x - 1] : 0;
  const right = x < cw - 1 ? inside[y * cw + x + 1] : 0;
  return !!v && !(up && down && left && right);
}
