import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  boxIouXyxy,
  boxXywhToXyxy,
  logitsToBoxXyxyRowMajor,
  maskToBoxXyxyRowMajor,
} from "../../../src/lib/masks/boxes.js";
import { maskIouRowMajor } from "../../../src/lib/masks/iou.js";
import type { BoxXyxy } from "../../../src/lib/masks/types.js";
import { arbMask, bruteBounds, maskFromRows } from "./helpers.js";

const arbBox = fc
  .tuple(
    fc.integer({ min: 0, max: 50 }),
    fc.integer({ min: 0, max: 50 }),
    fc.integer({ min: 0, max: 30 }),
    fc.integer({ min: 0, max: 30 }),
  )
  .map(([x, y, w, h]): BoxXyxy => [x, y, x + w, y + h]);

/** IoU by counting unit cells of integer boxes: independent of the min/max formula. */
function cellIou(a: BoxXyxy, b: BoxXyxy): number {
  let inter = 0,
    union = 0;
  for (let y = 0; y < 90; y++) {
    for (let x = 0; x < 90; x++) {
      const inA = x >= a[0] && x < a[2] && y >= a[1] && y < a[3];
      const inB = x >= b[0] && x < b[2] && y >= b[1] && y < b[3];
      if (inA || inB) union++;
      if (inA && inB) inter++;
    }
  }
  return union === 0 ? 0 : inter / union;
}

describe("box conversions", () => {
  it("xywh → xyxy", () => {
    expect(boxXywhToXyxy([2, 3, 8, 4])).toEqual([2, 3, 10, 7]);
    fc.assert(
      fc.property(arbBox, (b) => {
        expect(boxXywhToXyxy([b[0], b[1], b[2] - b[0], b[3] - b[1]])).toEqual(b);
      }),
    );
  });
});

describe("boxIouXyxy", () => {
  it("hand cases", () => {
    expect(boxIouXyxy([0, 0, 2, 2], [1, 1, 3, 3])).toBeCloseTo(1 / 7, 12);
    expect(boxIouXyxy([0, 0, 2, 2], [2, 0, 4, 2])).toBe(0); // touching edges
    expect(boxIouXyxy([0, 0, 4, 4], [1, 1, 3, 3])).toBeCloseTo(4 / 16, 12);
    expect(boxIouXyxy([1, 1, 1, 1], [1, 1, 1, 1])).toBe(0); // zero union
  });
  it("matches unit-cell counting on random integer boxes, and is symmetric", () => {
    fc.assert(
      fc.property(arbBox, arbBox, (a, b) => {
        expect(boxIouXyxy(a, b)).toBeCloseTo(cellIou(a, b), 12);
        expect(boxIouXyxy(a, b)).toBe(boxIouXyxy(b, a));
      }),
      { numRuns: 150 },
    );
  });
});

describe("maskToBoxXyxyRowMajor (SAM batched_mask_to_box)", () => {
  it("inclusive max coordinates; empty → zeros", () => {
    const { h, w, mask } = maskFromRows(["00000", "00100", "00110", "00000"]);
    expect(maskToBoxXyxyRowMajor(mask, h, w)).toEqual([2, 1, 3, 2]);
    const one = new Uint8Array(20);
    one[2 * 5 + 4] = 1;
    expect(maskToBoxXyxyRowMajor(one, 4, 5)).toEqual([4, 2, 4, 2]);
    expect(maskToBoxXyxyRowMajor(new Uint8Array(20), 4, 5)).toEqual([0, 0, 0, 0]);
  });
  it("matches brute force, and the logits version agrees", () => {
    fc.assert(
      fc.property(arbMask(), fc.integer({ min: 0, max: 7 }), ({ h, w, mask }, pad) => {
        const expected = bruteBounds(mask, h, w) ?? [0, 0, 0, 0];
        expect(maskToBoxXyxyRowMajor(mask, h, w)).toEqual(expected);
        const logits = new Float32Array(pad + h * w).fill(9);
        for (let i = 0; i < h * w; i++) logits[pad + i] = mask[i] ? 0.5 : -0.5;
        expect(logitsToBoxXyxyRowMajor(logits, pad, h, w, 0)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });
});

describe("maskIouRowMajor", () => {
  it("hand case and empties", () => {
    const a = maskFromRows(["110", "000"]).mask;
    const b = maskFromRows(["011", "000"]).mask;
    expect(maskIouRowMajor(a, b)).toBeCloseTo(1 / 3, 12);
    expect(maskIouRowMajor(new Uint8Array(4), new Uint8Array(4))).toBe(0);
    expect(() => maskIouRowMajor(new Uint8Array(3), new Uint8Array(4))).toThrow();
  });
  it("is 1 on itself, symmetric, within [0, 1]", () => {
    fc.assert(
      fc.property(arbMask(20), arbMask(20), ({ mask: a }, { mask: b0 }) => {
        const b = Uint8Array.from(a, (_, i) => b0[i % b0.length]!);
        const v = maskIouRowMajor(a, b);
        expect(v).toBe(maskIouRowMajor(b, a));
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if (a.some((x) => x)) expect(maskIouRowMajor(a, a)).toBe(1);
      }),
    );
  });
});
