/** Dual-view vector layout (src/node/models/views.ts): one cosine equals the weighted average of the views' cosines. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  concatViews,
  detailCropBox,
  queryDetailWeight,
  splitView,
  textForViews,
} from "../../src/node/models/views.js";

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const unit = (xs: number[]) => {
  const n = Math.hypot(...xs) || 1;
  return Float32Array.from(xs, (x) => x / n);
};
const unitVector = (d: number) =>
  fc
    .array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: d, maxLength: d })
    .filter((xs) => Math.hypot(...xs) > 1e-3)
    .map(unit);

describe("dual-view vectors", () => {
  it("make one dot product equal (1−w)·a·t + w·c·t, with unit length", () => {
    fc.assert(
      fc.property(
        unitVector(16),
        unitVector(16),
        unitVector(16),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (a, c, t, w) => {
          const stored = concatViews(a, c, w),
            query = textForViews(t, w);
          expect(stored).toHaveLength(32);
          expect(dot(stored, query)).toBeCloseTo((1 - w) * dot(a, t) + w * dot(c, t), 5);
          expect(dot(stored, stored)).toBeCloseTo(1, 5);
          expect(dot(query, query)).toBeCloseTo(1, 5);
        },
      ),
    );
  });

  it("rank like the weighted average: the ends are alpha-only and crop-only", () => {
    const a = unit([1, 0, 0]),
      c = unit([0, 1, 0]),
      t = unit([1, 2, 0]);
    expect(dot(concatViews(a, c, 0), textForViews(t, 0))).toBeCloseTo(dot(a, t), 6);
    expect(dot(concatViews(a, c, 1), textForViews(t, 1))).toBeCloseTo(dot(c, t), 6);
  });

  it("split back into each view's unit vector; a zero-weight view is gone", () => {
    const a = unit([3, 4, 0]),
      c = unit([0, 1, 1]);
    const views = { context: { weight: 0.6 }, detail: { weight: 0.4, cropMargin: 0 } };
    const stored = concatViews(a, c, 0.4);
    expect(Array.from(splitView(stored, "context", views)!)).toEqual(
      Array.from(a).map((x) => expect.closeTo(x, 6)),
    );
    expect(Array.from(splitView(stored, "detail", views)!)).toEqual(
      Array.from(c).map((x) => expect.closeTo(x, 6)),
    );
    expect(
      splitView(concatViews(a, c, 0), "detail", {
        context: { weight: 1 },
        detail: { weight: 0, cropMargin: 0 },
      }),
    ).toBeNull();
  });

  it("refuses views of different lengths", () => {
    expect(() => concatViews(new Float32Array(4), new Float32Array(3), 0.5)).toThrow(/4 and 3/);
  });
});

describe("queryDetailWeight", () => {
  const views = {
    context: { weight: 0.35, relationWords: ["left", "larger"] },
    detail: { weight: 0.65, cropMargin: 0.2 },
  };

  it("routes a query holding a relation word (whole word, any case) to the context view", () => {
    expect(queryDetailWeight("the star LEFT of the blue circle", views)).toBe(0);
    expect(queryDetailWeight("the larger of the two green triangles", views)).toBe(0);
    expect(queryDetailWeight("a large striped red star", views)).toBe(0.65);
    expect(queryDetailWeight("leftover pizza", views)).toBe(0.65);
    expect(
      queryDetailWeight("the star left of the circle", { ...views, context: { weight: 0.35 } }),
    ).toBe(0.65);
  });

  it("a context-routed query ranks regions as the context view alone", () => {
    const a = [unit([1, 0, 0]), unit([0, 1, 0])],
      c = [unit([0, 0, 1]), unit([1, 1, 1])],
      t = unit([1, 2, 3]);
    const stored = a.map((x, i) => concatViews(x, c[i]!, 0.65));
    const q = textForViews(t, 0);
    stored.forEach((v, i) => expect(dot(v, q)).toBeCloseTo(Math.sqrt(0.35) * dot(a[i]!, t), 6));
  });
});

describe("detailCropBox", () => {
  it("grows the box by margin·size each side, rounded outwards and clipped to the image", () => {
    expect(detailCropBox([10, 20, 30, 40], 0, 100, 100)).toEqual([10, 20, 30, 40]);
    expect(detailCropBox([10, 20, 30, 40], 0.1, 100, 100)).toEqual([7, 16, 36, 48]);
    expect(detailCropBox([0, 0, 100, 50], 0.5, 100, 60)).toEqual([0, 0, 100, 60]);
  });

  it("always contains the box and stays inside the image", () => {
    // An image W × H and a box inside it, from fractions of the free room.
    const box = fc
      .tuple(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
      )
      .map(([W, H, fx, fy, fw, fh]) => {
        const x = Math.min(W - 1, Math.floor(fx * W)),
          y = Math.min(H - 1, Math.floor(fy * H));
        return {
          W,
          H,
          x,
          y,
          w: 1 + Math.floor(fw * (W - x - 1)),
          h: 1 + Math.floor(fh * (H - y - 1)),
        };
      });
    fc.assert(
      fc.property(box, fc.double({ min: 0, max: 1, noNaN: true }), (b, m) => {
        const [x, y, w, h] = detailCropBox([b.x, b.y, b.w, b.h], m, b.W, b.H);
        expect(x).toBeLessThanOrEqual(b.x);
        expect(y).toBeLessThanOrEqual(b.y);
        expect(x + w).toBeGreaterThanOrEqual(b.x + b.w);
        expect(y + h).toBeGreaterThanOrEqual(b.y + b.h);
        expect(x >= 0 && y >= 0 && x + w <= b.W && y + h <= b.H).toBe(true);
      }),
    );
  });
});
