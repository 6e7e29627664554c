import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterDecoderBatch, selectByNms } from "../../../src/lib/amg/filter.js";
import { SAM_AMG_DEFAULTS } from "../../../src/lib/amg/params.js";
import { upsampleLowResLogitsToMask } from "../../../src/lib/masks/resize.js";
import type { BoxXyxy } from "../../../src/lib/masks/types.js";
import { bruteBounds } from "../masks/helpers.js";

const L = 5; // low-res side
const PLANE = L * L;
const M = 4;

/** A [L, L] logit plane: `inside` pixels (as [y, x]) get `hi`, the rest `lo`. */
function plane(inside: [number, number][], hi: number, lo: number): number[] {
  const p = new Array<number>(PLANE).fill(lo);
  for (const [y, x] of inside) p[y * L + x] = hi;
  return p;
}
const block = (y0: number, y1: number, x0: number, x1: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.push([y, x]);
  return out;
};

// Prompt 0: m0 good but not considered; m1 crisp (stability 1); m2 low IoU; m3 soft (stability 0).
// Prompt 1: m1 IoU exactly float32(0.88) (fails the strict >); m2 stability exactly 19/20 = 0.95
//           (passes >=); m3 empty (stability 0).
const iou = Float32Array.from([0.99, 0.95, 0.8, 0.9, 0.5, 0.88, 0.99, 0.99]);
const stable95 = plane(block(0, 3, 0, 4), 5, -5); // rows 0..3: 20 px > 1 …
stable95[3 * L + 4] = 0; // … but one of them only > −1 → 19 / 20
const logits = Float32Array.from([
  ...plane(block(0, 4, 0, 4), 5, -5),
  ...plane(block(1, 2, 2, 3), 5, -5),
  ...plane(block(0, 1, 0, 1), 5, -5),
  ...plane(block(0, 1, 0, 1), 0.5, -5),
  ...plane([], 5, -5),
  ...plane(block(2, 2, 0, 4), 5, -5),
  ...stable95,
  ...plane([], 5, -5),
]);
const layout = { batchSize: 2, masksPerPrompt: M };
/** Low-res frame = image (every resize is the identity), so the upsampled masks are the planes. */
const identity = { lowH: L, lowW: L, paddedSize: L, resizedH: L, resizedW: L, outH: L, outW: L };

describe("filterDecoderBatch", () => {
  it("applies SAM's pred-IoU (>) and stability (>=) filters to the chosen mask indices", () => {
    const out = filterDecoderBatch(iou, logits, layout, identity, [1, 2, 3], SAM_AMG_DEFAULTS, 0);
    expect(out.map((c) => [c.prompt, c.maskIndex])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    const [a, b] = out;
    expect(a!.predictedIou).toBeCloseTo(0.95, 6);
    expect(a!.stability).toBe(1);
    expect(a!.boxXyxy).toEqual([2, 1, 3, 2]);
    expect(a!.area).toBe(4);
    expect(a!.logitsOffset).toBe(1 * PLANE);
    expect(b!.stability).toBe(0.95);
    expect(b!.boxXyxy).toEqual([0, 0, 4, 3]);
    expect(b!.logitsOffset).toBe((1 * M + 2) * PLANE);
  });

  it("thresholds of 0 disable the filters, but empty masks are still dropped", () => {
    const params = { predIouThresh: 0, stabilityScoreThresh: 0, stabilityScoreOffset: 1 };
    const out = filterDecoderBatch(
      iou,
      logits,
      { ...layout, promptOffset: 64 },
      identity,
      [0, 1, 2, 3],
      params,
      0,
    );
    // Everything passes except the two all-negative (empty) planes; the soft plane is non-empty and stays.
    expect(out.map((c) => [c.prompt, c.maskIndex])).toEqual([
      [64, 0],
      [64, 1],
      [64, 2],
      [64, 3],
      [65, 1],
      [65, 2],
    ]);
    expect(out[3]!.stability).toBe(0);
  });

  it("uses the mask threshold for boxes and stability", () => {
    // At threshold 4.9 the soft plane (0.5) is empty; the crisp ones are unchanged.
    const params = { predIouThresh: 0, stabilityScoreThresh: 0, stabilityScoreOffset: 0.05 };
    const out = filterDecoderBatch(iou, logits, layout, identity, [3], params, 4.9);
    expect(out).toEqual([]);
  });

  it("compares in float32 like PyTorch: a threshold that rounds up is not exceeded by itself", () => {
    // float32(0.8) = 0.800000011920929 > 0.8 in double, but float32(iou) > float32(0.8) is false.
    const ious = Float32Array.from([0.99, 0.8, 0.99, 0.99, 0.99, 0.8000001, 0.99, 0.99]);
    const params = { predIouThresh: 0.8, stabilityScoreThresh: 0, stabilityScoreOffset: 1 };
    const out = filterDecoderBatch(ious, logits, layout, identity, [1], params, 0);
    expect(out.map((c) => c.prompt)).toEqual([1]);
  });

  it("validates shapes and indices", () => {
    expect(() =>
      filterDecoderBatch(iou.subarray(1), logits, layout, identity, [1], SAM_AMG_DEFAULTS, 0),
    ).toThrow(/IoU predictions/);
    expect(() =>
      filterDecoderBatch(iou, logits.subarray(1), layout, identity, [1], SAM_AMG_DEFAULTS, 0),
    ).toThrow(/logits/);
    expect(() =>
      filterDecoderBatch(iou, logits, layout, identity, [4], SAM_AMG_DEFAULTS, 0),
    ).toThrow(/mask index 4/);
  });
});

describe("selectByNms", () => {
  const cands = [
    { id: "a", predictedIou: 0.9 },
    { id: "b", predictedIou: 0.95 },
    { id: "c", predictedIou: 0.7 },
    { id: "d", predictedIou: 0.8 },
  ];
  const boxes: BoxXyxy[] = [
    [0, 0, 10, 10],
    [1, 1, 10, 10], // IoU with a = 81/100
    [50, 50, 60, 60],
    [0, 0, 10, 6], // IoU with a = 60/100 = 0.6, with b = 45/96 ≈ 0.47
  ];
  it("keeps the best-scored box of each overlapping group, highest first", () => {
    expect(selectByNms(cands, boxes, 0.7).map((c) => c.id)).toEqual(["b", "d", "c"]);
    expect(selectByNms(cands, boxes, 0.45).map((c) => c.id)).toEqual(["b", "c"]);
    expect(selectByNms(cands, boxes, 0.9).map((c) => c.id)).toEqual(["b", "a", "d", "c"]);
  });
  it("accepts a [N, 4] Float32Array and checks the count", () => {
    expect(selectByNms(cands, Float32Array.from(boxes.flat()), 0.7).map((c) => c.id)).toEqual([
      "b",
      "d",
      "c",
    ]);
    expect(() => selectByNms(cands, boxes.slice(1), 0.7)).toThrow();
  });
});

/**
 * SAM's `_process_batch` scoring written plainly: upsample the whole mask (postprocess_masks),
 * count pixels above t ± δ for stability, threshold at t for the box.
 */
function samReference(
  plane: Float32Array,
  g: {
    lowH: number;
    lowW: number;
    paddedSize: number;
    resizedH: number;
    resizedW: number;
    outH: number;
    outW: number;
  },
  t: number,
  delta: number,
): { stability: number; box: BoxXyxy | null; area: number } {
  const up = (th: number) =>
    upsampleLowResLogitsToMask(
      plane,
      g.lowH,
      g.lowW,
      g.paddedSize,
      g.resizedH,
      g.resizedW,
      g.outH,
      g.outW,
      Math.fround(th),
    );
  const sum = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);
  const mask = up(t);
  return {
    stability: sum(up(t + delta)) / sum(up(t - delta)),
    box: bruteBounds(mask, g.outH, g.outW),
    area: sum(mask),
  };
}

describe("filterDecoderBatch on upsampled masks", () => {
  const arbCase = fc
    .record({
      low: fc.integer({ min: 2, max: 10 }),
      rh: fc.double({ min: 0.3, max: 1, noNaN: true }),
      outH: fc.integer({ min: 4, max: 60 }),
      outW: fc.integer({ min: 4, max: 60 }),
      b: fc.integer({ min: 1, max: 3 }),
    })
    .chain(({ low, rh, outH, outW, b }) =>
      fc.record({
        g: fc.constant({
          lowH: low,
          lowW: low,
          paddedSize: 4 * low,
          resizedH: Math.max(1, Math.round(rh * 4 * low)),
          resizedW: 4 * low,
          outH,
          outW,
        }),
        b: fc.constant(b),
        logits: fc
          .array(fc.float({ min: -4, max: 4, noNaN: true }), {
            minLength: b * 2 * low * low,
            maxLength: b * 2 * low * low,
          })
          .map((a) => Float32Array.from(a)),
        iou: fc
          .array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: b * 2, maxLength: b * 2 })
          .map((a) => Float32Array.from(a)),
        stabilityScoreThresh: fc.constantFrom(0, 0.3, 0.8),
      }),
    );

  it("keeps exactly the masks SAM keeps, with SAM's stability and box of the upsampled mask", () => {
    fc.assert(
      fc.property(arbCase, ({ g, b, logits, iou, stabilityScoreThresh }) => {
        const params = { predIouThresh: 0.3, stabilityScoreThresh, stabilityScoreOffset: 1 };
        const got = filterDecoderBatch(
          iou,
          logits,
          { batchSize: b, masksPerPrompt: 2 },
          g,
          [0, 1],
          params,
          0,
        );
        const plane = g.lowH * g.lowW;
        const want = [];
        for (let i = 0; i < b * 2; i++) {
          if (!(iou[i]! > Math.fround(0.3))) continue;
          const ref = samReference(logits.subarray(i * plane, (i + 1) * plane), g, 0, 1);
          if (
            !(Math.fround(ref.stability) >= Math.fround(stabilityScoreThresh)) &&
            stabilityScoreThresh > 0
          )
            continue;
          if (ref.area === 0) continue;
          want.push({
            prompt: i >> 1,
            maskIndex: i & 1,
            stability: ref.stability,
            boxXyxy: ref.box,
            area: ref.area,
          });
        }
        expect(
          got.map(({ prompt, maskIndex, stability, boxXyxy, area }) => ({
            prompt,
            maskIndex,
            stability,
            boxXyxy,
            area,
          })),
        ).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });
});
