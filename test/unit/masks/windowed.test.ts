/**
 * The window/stride forms of the mask helpers are speed-ups only: each must give exactly what its
 * whole-array form gives on the same data.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stabilityScorePlane } from "../../../src/lib/amg/stability.js";
import {
  logitsToBoxXyxyRowMajor,
  maskBoxAndAreaInWindowRowMajor,
  maskToBoxXyxyRowMajor,
} from "../../../src/lib/masks/boxes.js";
import { rleCountsFromRowMajorMask, rleEncodeRowMajor } from "../../../src/lib/masks/rle.js";
import type { BoxXyxy } from "../../../src/lib/masks/types.js";
import { arbMask, bruteBounds } from "./helpers.js";

/** A window that contains `box` (grown by random margins, clamped to the mask). */
const arbGrow = fc.tuple(fc.nat(5), fc.nat(5), fc.nat(5), fc.nat(5));
function grow(
  [x0, y0, x1, y1]: BoxXyxy,
  [a, b, c, d]: [number, number, number, number],
  h: number,
  w: number,
): BoxXyxy {
  return [
    Math.max(0, x0 - a),
    Math.max(0, y0 - b),
    Math.min(w - 1, x1 + c),
    Math.min(h - 1, y1 + d),
  ];
}
const count = (m: Uint8Array): number => m.reduce((s, v) => s + (v ? 1 : 0), 0);

/** Random logit planes `[n, h, w]` with a random top-left valid part. */
const arbPlanes = fc
  .record({
    n: fc.integer({ min: 1, max: 6 }),
    h: fc.integer({ min: 1, max: 12 }),
    w: fc.integer({ min: 1, max: 12 }),
  })
  .chain(({ n, h, w }) =>
    fc.record({
      n: fc.constant(n),
      h: fc.constant(h),
      w: fc.constant(w),
      vh: fc.integer({ min: 1, max: h }),
      vw: fc.integer({ min: 1, max: w }),
      logits: fc
        .array(fc.float({ min: -3, max: 3, noNaN: true }), {
          minLength: n * h * w,
          maxLength: n * h * w,
        })
        .map((a) => Float32Array.from(a)),
    }),
  );

/** `[n, h, w]` → its top-left `[n, vh, vw]` as a new array (the copy the strided forms avoid). */
function cropPlanes(
  src: Float32Array,
  n: number,
  h: number,
  w: number,
  vh: number,
  vw: number,
): Float32Array {
  const out = new Float32Array(n * vh * vw);
  for (let p = 0; p < n; p++)
    for (let y = 0; y < vh; y++)
      for (let x = 0; x < vw; x++) out[(p * vh + y) * vw + x] = src[(p * h + y) * w + x]!;
  return out;
}

describe("windowed box and area", () => {
  it("equal the whole-mask box and pixel count whenever the window holds every foreground pixel", () => {
    fc.assert(
      fc.property(arbMask(), arbGrow, ({ h, w, mask }, g) => {
        const tight = bruteBounds(mask, h, w) ?? [0, 0, 0, 0];
        const { box, area } = maskBoxAndAreaInWindowRowMajor(mask, h, w, grow(tight, g, h, w));
        expect(box).toEqual(maskToBoxXyxyRowMajor(mask, h, w));
        expect(area).toBe(count(mask));
      }),
      { numRuns: 200 },
    );
  });
  it("refuses a window outside the mask", () => {
    expect(() => maskBoxAndAreaInWindowRowMajor(new Uint8Array(6), 2, 3, [0, 0, 3, 1])).toThrow(
      /outside/,
    );
  });
});

describe("RLE from the mask's box", () => {
  it("gives pycocotools' counts exactly, for the tight box or any box around it", () => {
    fc.assert(
      fc.property(arbMask(), arbGrow, ({ h, w, mask }, g) => {
        const whole = rleCountsFromRowMajorMask(mask, h, w);
        const tight = bruteBounds(mask, h, w) ?? [0, 0, 0, 0];
        expect(rleCountsFromRowMajorMask(mask, h, w, tight)).toEqual(whole);
        expect(rleCountsFromRowMajorMask(mask, h, w, grow(tight, g, h, w))).toEqual(whole);
        expect(rleEncodeRowMajor(mask, h, w, tight)).toEqual(rleEncodeRowMajor(mask, h, w));
      }),
      { numRuns: 200 },
    );
  });
  it("refuses a box that is not inside the mask", () => {
    expect(() => rleCountsFromRowMajorMask(new Uint8Array(6), 2, 3, [1, 0, 3, 1])).toThrow(
      /not inside/,
    );
    expect(() => rleCountsFromRowMajorMask(new Uint8Array(6), 2, 3, [2, 0, 1, 1])).toThrow(
      /not inside/,
    );
  });
});

describe("strided low-res scoring", () => {
  it("box and stability read the valid part in place exactly as on a copy", () => {
    fc.assert(
      fc.property(
        arbPlanes,
        fc.float({ min: -1, max: 1, noNaN: true }),
        ({ n, h, w, vh, vw, logits }, t) => {
          const copy = cropPlanes(logits, n, h, w, vh, vw);
          for (let p = 0; p < n; p++) {
            expect(logitsToBoxXyxyRowMajor(logits, p * h * w, vh, vw, t, w)).toEqual(
              logitsToBoxXyxyRowMajor(copy, p * vh * vw, vh, vw, t),
            );
            expect(stabilityScorePlane(logits, p * h * w, vh, vw, w, t, 0.5)).toBe(
              stabilityScorePlane(copy, p * vh * vw, 1, vh * vw, vh * vw, t, 0.5),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
