/**
 * PNG rendering for the region endpoints (sharp): the mask alone as a 1-channel PNG, and a preview —
 * the image, dimmed outside the region, the region tinted, its outline solid — downscaled so a
 * 40-megapixel upload does not cost a 160 MB overlay per preview.
 */
import sharp from "sharp";
import type { CocoRle } from "../../lib/masks/types.js";
import { rleDecodeToRowMajor } from "../../lib/masks/rle.js";
import type { Renderer } from "../../lib/services.js";

export interface RendererOptions {
  /** Longest side of preview images. */
  previewMaxSide?: number;
  /** Highlight colour, RGB. */
  tint?: [number, number, number];
}

export class SharpRenderer implements Renderer {
  private readonly maxSide: number;
  private readonly tint: [number, number, number];

  constructor(options: RendererOptions = {}) {
    this.maxSide = options.previewMaxSide ?? 1024;
    this.tint = options.tint ?? [255, 64, 160];
  }

  async maskPng(mask: CocoRle): Promise<Uint8Array> {
    const [h, w] = mask.size;
    const bits = rleDecodeToRowMajor(mask);
    const gray = Buffer.alloc(h * w);
    for (let i = 0; i < bits.length; i++) gray[i] = bits[i] ? 255 : 0;
    return new Uint8Array(
      await sharp(gray, { raw: { width: w, height: h, channels: 1 } })
        .toColourspace("b-w")
        .png()
        .toBuffer(),
    );
  }

  async previewPng(image: Uint8Array, mask: CocoRle): Promise<Uint8Array> {
    const [mh, mw] = mask.size;
    const scale = Math.min(1, this.maxSide / Math.max(mh, mw));
    const w = Math.max(1, Math.round(mw * scale));
    const h = Math.max(1, Math.round(mh * scale));
    // EXIF orientation applied, as the segmenter saw it; the mask is in that frame.
    const base = await sharp(image, { pages: 1 })
      .rotate()
      .resize(w, h, { fit: "fill" })
      .removeAlpha()
      .raw()
      .toBuffer();
    const small = downsampleNearest(rleDecodeToRowMajor(mask), mh, mw, h, w);
    const out = highlight(base, small, w, h, this.tint);
    return new Uint8Array(
      await sharp(out, { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toBuffer(),
    );
  }
}

/** Nearest-neighbour resample of a row-major 0/1 mask. */
function downsampleNearest(
  mask: Uint8Array,
  h: number,
  w: number,
  oh: number,
  ow: number,
): Uint8Array {
  if (oh === h && ow === w) return mask;
  const out = new Uint8Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / oh));
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / ow));
      out[y * ow + x] = mask[sy * w + sx] ?? 0;
    }
  }
  return out;
}

/** Outside dimmed to 45 %, inside blended 40 % with the tint, 4-neighbour edge pixels solid tint. */
function highlight(
  rgb: Buffer,
  mask: Uint8Array,
  w: number,
  h: number,
  tint: [number, number, number],
): Buffer {
  const out = Buffer.alloc(w * h * 3);
  const inside = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x] === 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const isIn = inside(x, y);
      const edge =
        isIn && (!inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1));
      for (let ch = 0; ch < 3; ch++) {
        const v = rgb[i * 3 + ch] ?? 0;
        const t = tint[ch] ?? 0;
        out[i * 3 + ch] = edge ? t : isIn ? Math.round(0.6 * v + 0.4 * t) : Math.round(0.45 * v);
      }
    }
  }
  return out;
}
