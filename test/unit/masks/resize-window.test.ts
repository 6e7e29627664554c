import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { logitsToBoxXyxyRowMajor } from "../../../src/lib/masks/boxes.js";
import { upsampleLowResLogitsToMask, upsampleWindowXyxy } from "../../../src/lib/masks/resize.js";

/** A low-res logit plane with one positive blob (and negative elsewhere), like a decoder mask. */
function blobLogits(low: number, cx: number, cy: number, r: number): Float32Array {
  const out = new Float32Array(low * low);
  for (let y = 0; y < low; y++)
    for (let x = 0; x < low; x++) out[y * low + x] = r - Math.hypot(x - cx, y - cy);
  return out;
}

describe("upsampleWindowXyxy", () => {
  it("windowed upsampling equals full upsampling for any blob and image geometry", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 32 }),
        fc.integer({ min: 20, max: 300 }),
        fc.integer({ min: 20, max: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.3, max: 6, noNaN: true }),
        (low, outH, outW, fx, fy, r) => {
          const S = low * 4;
          const scale = S / Math.max(outH, outW);
          const rh = Math.floor(outH * scale + 0.5),
            rw = Math.floor(outW * scale + 0.5);
          const logits = blobLogits(low, fx * (low - 1), fy * (low - 1), r);
          const full = upsampleLowResLogitsToMask(logits, low, low, S, rh, rw, outH, outW, 0);
          const box = logitsToBoxXyxyRowMajor(logits, 0, low, low, 0);
          const window = upsampleWindowXyxy(box, low, low, S, rh, rw, outH, outW);
          const windowed = upsampleLowResLogitsToMask(
            logits,
            low,
            low,
            S,
            rh,
            rw,
            outH,
            outW,
            0,
            window,
          );
          expect(windowed).toEqual(full);
        },
      ),
      { numRuns: 150 },
    );
    // ~10 s on an idle 2-core machine, but it was seen past the 60 s default beside the model tests under load.
  }, 240_000);

  it("leaves pixels outside a given window at 0", () => {
    const logits = new Float32Array(16 * 16).fill(5);
    const mask = upsampleLowResLogitsToMask(
      logits,
      16,
      16,
      64,
      64,
      64,
      40,
      40,
      0,
      [10, 10, 19, 19],
    );
    expect(mask.reduce((a, b) => a + b, 0)).toBe(100);
    expect(mask[0]).toBe(0);
    expect(mask[10 * 40 + 10]).toBe(1);
  });
});
