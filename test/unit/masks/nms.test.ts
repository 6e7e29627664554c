import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boxIouXyxy } from "../../../src/lib/masks/boxes.js";
import { nmsXyxy } from "../../../src/lib/masks/nms.js";
import type { BoxXyxy } from "../../../src/lib/masks/types.js";

const flat = (boxes: BoxXyxy[]): Float32Array => Float32Array.from(boxes.flat());

/** Reference: repeatedly take the best remaining box, drop everything overlapping it by > t. */
function referenceNms(boxes: BoxXyxy[], scores: number[], t: number): number[] {
  let remaining = boxes.map((_, i) => i);
  const keep: number[] = [];
  while (remaining.length > 0) {
    let best = remaining[0]!;
    for (const i of remaining)
      if (scores[i]! > scores[best]! || (scores[i] === scores[best] && i < best)) best = i;
    keep.push(best);
    remaining = remaining.filter((i) => i !== best && !(boxIouXyxy(boxes[i]!, boxes[best]!) > t));
  }
  return keep;
}

describe("nmsXyxy", () => {
  it("keeps the best, suppresses only strictly above the threshold", () => {
    // IoU([0,0,10,10], [0,0,10,5]) = 50/100 = 0.5 exactly.
    const boxes = flat([
      [0, 0, 10, 10],
      [0, 0, 10, 5],
      [20, 20, 30, 30],
    ]);
    const scores = Float32Array.from([0.9, 0.8, 0.7]);
    expect(nmsXyxy(boxes, scores, 0.5)).toEqual([0, 1, 2]); // 0.5 is not > 0.5
    expect(nmsXyxy(boxes, scores, 0.49)).toEqual([0, 2]);
    // Scores decide, not input order.
    expect(nmsXyxy(boxes, Float32Array.from([0.1, 0.8, 0.7]), 0.49)).toEqual([1, 2]);
  });

  it("ties keep input order; empty input", () => {
    const boxes = flat([
      [0, 0, 10, 10],
      [1, 1, 10, 10],
      [50, 50, 60, 60],
    ]);
    expect(nmsXyxy(boxes, Float32Array.from([0.5, 0.5, 0.5]), 0.5)).toEqual([0, 2]);
    expect(nmsXyxy(new Float32Array(0), new Float32Array(0), 0.5)).toEqual([]);
    expect(() => nmsXyxy(new Float32Array(4), new Float32Array(2), 0.5)).toThrow();
  });

  it("matches the reference on random boxes; kept boxes never overlap above the threshold", () => {
    const arbBox = fc
      .tuple(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 25 }),
      )
      .map(([x, y, w, h]): BoxXyxy => [x, y, x + w, y + h]);
    const input = fc.array(fc.tuple(arbBox, fc.integer({ min: 0, max: 20 })), { maxLength: 40 });
    fc.assert(
      fc.property(input, fc.double({ min: 0, max: 1, noNaN: true }), (items, t) => {
        const boxes = items.map(([b]) => b);
        const scores = items.map(([, s]) => s / 20); // coarse scores → many ties
        const keep = nmsXyxy(flat(boxes), Float32Array.from(scores), t);
        expect(keep).toEqual(referenceNms(boxes, Array.from(Float32Array.from(scores)), t));
        for (let i = 0; i < keep.length; i++) {
          for (let j = i + 1; j < keep.length; j++) {
            expect(boxIouXyxy(boxes[keep[i]!]!, boxes[keep[j]!]!)).toBeLessThanOrEqual(t);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
