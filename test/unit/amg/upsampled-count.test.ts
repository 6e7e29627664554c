/**
 * countUpsampledAbove must equal counting the fully upsampled mask (SAM's postprocess_masks, then
 * `> threshold`) and taking its tight box, on any logits and any geometry.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  countUpsampledAbove,
  countUpsampledAboveEach,
  tallyUpsampledAbove,
} from "../../../src/lib/amg/upsampled-count.js";
import { upsampleLowResLogitsToMask } from "../../../src/lib/masks/resize.js";
import { bruteBounds } from "../masks/helpers.js";

/** A geometry like SAM's (low = S/4, one resized side may be the whole frame) or any other. */
const arbGeometry = fc
  .record({
    low: fc.integer({ min: 1, max: 12 }),
    factor: fc.integer({ min: 1, max: 6 }),
    rh: fc.double({ min: 0.05, max: 1, noNaN: true }),
    rw: fc.double({ min: 0.05, max: 1, noNaN: true }),
    outH: fc.integer({ min: 1, max: 70 }),
    outW: fc.integer({ min: 1, max: 70 }),
  })
  .map(({ low, factor, rh, rw, outH, outW }) => {
    const S = low * factor;
    return {
      lowH: low,
      lowW: low,
      paddedSize: S,
      resizedH: Math.max(1, Math.round(rh * S)),
      resizedW: Math.max(1, Math.round(rw * S)),
      outH,
      outW,
    };
  });

/**
 * Logits mixing smooth blobs, isolated spikes (which the upsampling can erase) and values exactly on
 * the thresholds −1, 0, 1.
 */
const arbLogits = (n: number): fc.Arbitrary<Float32Array> =>
  fc
    .array(
      fc.oneof(
        fc.float({ min: -3, max: 3, noNaN: true }),
        fc.constantFrom(-1, 0, 1, -4, 4),
        fc.float({ min: Math.fround(-1.01), max: Math.fround(1.01), noNaN: true }),
      ),
      { minLength: n, maxLength: n },
    )
    .map((a) => Float32Array.from(a));

const arbCase = arbGeometry.chain((g) =>
  fc.record({
    g: fc.constant(g),
    logits: arbLogits(g.lowH * g.lowW),
    t: fc.constantFrom(-1, 0, 1, 0.5),
  }),
);

describe("countUpsampledAbove", () => {
  it("equals the count and tight box of the fully upsampled mask", () => {
    fc.assert(
      fc.property(arbCase, ({ g, logits, t }) => {
        const full = upsampleLowResLogitsToMask(
          logits,
          g.lowH,
          g.lowW,
          g.paddedSize,
          g.resizedH,
          g.resizedW,
          g.outH,
          g.outW,
          Math.fround(t),
        );
        const { count, box } = countUpsampledAbove(logits, 0, g, t);
        expect(count).toBe(full.reduce((s, v) => s + v, 0));
        expect(box).toEqual(bruteBounds(full, g.outH, g.outW));
      }),
      { numRuns: 400 },
    );
  });

  it("counts several thresholds in one pass exactly as one at a time, in the order given", () => {
    fc.assert(
      fc.property(
        arbCase,
        fc.constantFrom([1, -1, 0], [0, 0.5], [0.5, 0.5 + 1e-7, -1], [2]),
        ({ g, logits }, ts) => {
          expect(countUpsampledAboveEach(logits, 0, g, ts)).toEqual(
            ts.map((t) => countUpsampledAbove(logits, 0, g, t)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("bounds each count before interpolating: lower ≤ exact ≤ upper", () => {
    fc.assert(
      fc.property(arbCase, ({ g, logits }) => {
        const tally = tallyUpsampledAbove(logits, 0, g, [-1, 1, 0]);
        tally.exact().forEach(({ count }, k) => {
          expect(tally.lower[k]).toBeLessThanOrEqual(count);
          expect(count).toBeLessThanOrEqual(tally.upper[k]!);
        });
      }),
      { numRuns: 200 },
    );
  });

  it("reads the plane at an offset inside a batch", () => {
    const g = { lowH: 8, lowW: 8, paddedSize: 32, resizedH: 32, resizedW: 20, outH: 45, outW: 28 };
    fc.assert(
      fc.property(arbLogits(3 * 64), fc.integer({ min: 0, max: 2 }), (batch, k) => {
        const plane = batch.slice(k * 64, (k + 1) * 64);
        expect(countUpsampledAbove(batch, k * 64, g, 0)).toEqual(
          countUpsampledAbove(plane, 0, g, 0),
        );
      }),
      { numRuns: 50 },
    );
  });

  it("drops an isolated low-res positive that the upsampling erases (its box is not stretched)", () => {
    // SAM frame 64, low-res 16, image 64×64: a blob at the top-left and one spike far away.
    const g = {
      lowH: 16,
      lowW: 16,
      paddedSize: 64,
      resizedH: 64,
      resizedW: 64,
      outH: 64,
      outW: 64,
    };
    const logits = new Float32Array(256).fill(-8);
    for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) logits[y * 16 + x] = 6;
    logits[12 * 16 + 13] = 0.5; // above 0 at low res, swamped by its −8 neighbours when upsampled
    const { box } = countUpsampledAbove(logits, 0, g, 0);
    expect(box![2]).toBeLessThan(20);
    expect(box![3]).toBeLessThan(20);
  });

  it("rejects a plane outside the array", () => {
    const g = { lowH: 4, lowW: 4, paddedSize: 16, resizedH: 16, resizedW: 16, outH: 8, outW: 8 };
    expect(() => countUpsampledAbove(new Float32Array(16), 1, g, 0)).toThrow(/outside/);
  });
});

/** SAM-like sizes, smaller: 64² logits over a 256 frame, 192×256 resized, shown at 300×400. */
const SAM_LIKE = {
  lowH: 64,
  lowW: 64,
  paddedSize: 256,
  resizedH: 192,
  resizedW: 256,
  outH: 300,
  outW: 400,
};

/** A compact object (a cone of logits) with a few spikes: mostly decided blocks, a ring to interpolate. */
const arbObject = fc
  .record({
    cy: fc.integer({ min: 0, max: 47 }),
    cx: fc.integer({ min: 0, max: 63 }),
    height: fc.double({ min: 0.5, max: 12, noNaN: true }),
    slope: fc.double({ min: 0.1, max: 3, noNaN: true }),
    spikes: fc.array(fc.tuple(fc.nat(64 * 64 - 1), fc.float({ min: -3, max: 3, noNaN: true })), {
      maxLength: 6,
    }),
  })
  .map(({ cy, cx, height, slope, spikes }) => {
    const a = new Float32Array(64 * 64);
    for (let r = 0; r < 64; r++)
      for (let c = 0; c < 64; c++) a[r * 64 + c] = height - slope * Math.hypot(r - cy, c - cx);
    for (const [i, v] of spikes) a[i] = v;
    return a;
  });

/** Noise crossing the thresholds almost everywhere (random weights' masks): the one-window pass. */
const arbNoise = fc
  .array(fc.float({ min: -3, max: 3, noNaN: true }), { minLength: 64 * 64, maxLength: 64 * 64 })
  .map((v) => Float32Array.from(v));

describe("countUpsampledAboveEach at SAM-like sizes", () => {
  const g = SAM_LIKE;
  const check = (logits: Float32Array) => {
    const got = countUpsampledAboveEach(logits, 0, g, [-1, 1, 0]);
    [-1, 1, 0].forEach((t, k) => {
      const full = upsampleLowResLogitsToMask(logits, 64, 64, 256, 192, 256, 300, 400, t);
      expect(got[k]!.count).toBe(full.reduce((s, v) => s + v, 0));
      expect(got[k]!.box).toEqual(bruteBounds(full, 300, 400));
    });
  };
  it("a compact object: counted block by block, exactly", () => {
    fc.assert(fc.property(arbObject, check), { numRuns: 40 });
  });
  it("noise over the whole plane: counted in one window pass, exactly", () => {
    fc.assert(fc.property(arbNoise, check), { numRuns: 15 });
  });
});
