import { describe, expect, it } from "vitest";
import { stabilityScorePlane } from "../../../src/lib/amg/stability.js";

/** One row of `length` logits from `offset`. */
const stabilityScore = (
  logits: Float32Array,
  offset: number,
  length: number,
  t: number,
  delta: number,
) => stabilityScorePlane(logits, offset, 1, length, length, t, delta);

describe("stabilityScorePlane, one row", () => {
  const logits = Float32Array.from([-2, -0.5, 0.5, 1.5, 3, 0.9, 1.0, 1.1]);
  it("hand-made logits, t = 0, δ = 1", () => {
    // > 1: 1.5, 3, 1.1 → 3 (1.0 is not > 1). > −1: all but −2 → 7.
    expect(stabilityScore(logits, 0, 8, 0, 1)).toBeCloseTo(3 / 7, 12);
  });
  it("reads only its window of a batch array", () => {
    // Window [3, 7): 1.5, 3, 0.9, 1.0 → > 1: 2; > −1: 4.
    expect(stabilityScore(logits, 3, 4, 0, 1)).toBeCloseTo(0.5, 12);
  });
  it("uses the mask threshold", () => {
    // t = 1, δ = 0.5: > 1.5: 3 → 1; > 0.5: 1.5, 3, 0.9, 1.0, 1.1 → 5.
    expect(stabilityScore(logits, 0, 8, 1, 0.5)).toBeCloseTo(1 / 5, 12);
  });
  it("is 1 for a crisp mask and 0 (not NaN) when nothing clears the low threshold", () => {
    expect(stabilityScore(Float32Array.from([-9, -9, 9, 9]), 0, 4, 0, 1)).toBe(1);
    expect(stabilityScore(Float32Array.from([-9, -9, -9]), 0, 3, 0, 1)).toBe(0);
  });
  it("rejects a window outside the array", () => {
    expect(() => stabilityScore(logits, 6, 4, 0, 1)).toThrow();
  });
});
