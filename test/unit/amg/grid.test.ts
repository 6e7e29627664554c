import { describe, expect, it } from "vitest";
import { buildAllLayerPointGrids, buildPointGrid } from "../../../src/lib/amg/grid.js";

describe("buildPointGrid", () => {
  it("n = 1 is the centre", () => {
    expect(Array.from(buildPointGrid(1))).toEqual([0.5, 0.5]);
  });
  it("n = 2 is the quarter points, x fastest", () => {
    // linspace(0.25, 0.75, 2) = [0.25, 0.75]; rows of constant y.
    expect(Array.from(buildPointGrid(2))).toEqual([0.25, 0.25, 0.75, 0.25, 0.25, 0.75, 0.75, 0.75]);
  });
  it("n = 32: first, second, last points and spacing 1/32", () => {
    const g = buildPointGrid(32);
    expect(g.length).toBe(32 * 32 * 2);
    expect(g[0]).toBeCloseTo(1 / 64, 7);
    expect(g[2]).toBeCloseTo(3 / 64, 7); // second point: next x, same y
    expect(g[3]).toBeCloseTo(1 / 64, 7);
    expect(g[32 * 2 + 1]).toBeCloseTo(3 / 64, 7); // 33rd point starts the second row
    expect(g[g.length - 2]).toBeCloseTo(63 / 64, 7);
    expect(g[g.length - 1]).toBeCloseTo(63 / 64, 7);
  });
  it("n = 0 is empty; negatives and fractions throw", () => {
    expect(buildPointGrid(0).length).toBe(0);
    expect(() => buildPointGrid(-1)).toThrow();
    expect(() => buildPointGrid(1.5)).toThrow();
  });
});

describe("buildAllLayerPointGrids", () => {
  it("divides points per side by the scale per layer, flooring", () => {
    // 32, int(32/3) = 10, int(32/9) = 3.
    const grids = buildAllLayerPointGrids(32, 2, 3);
    expect(grids.map((g) => g.length / 2)).toEqual([32 * 32, 10 * 10, 3 * 3]);
    expect(Array.from(grids[2]!.slice(0, 2))).toEqual([Math.fround(1 / 6), Math.fround(1 / 6)]);
  });
  it("no crop layers → one grid", () => {
    expect(buildAllLayerPointGrids(16, 0, 1).length).toBe(1);
  });
});
