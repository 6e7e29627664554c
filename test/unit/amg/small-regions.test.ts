import { describe, expect, it } from "vitest";
import { removeSmallRegionsRowMajor } from "../../../src/lib/amg/small-regions.js";
import { maskFromRows } from "../masks/helpers.js";

const rowsOf = (mask: Uint8Array, w: number): string[] => {
  const rows: string[] = [];
  for (let i = 0; i < mask.length; i += w) rows.push(Array.from(mask.subarray(i, i + w)).join(""));
  return rows;
};

describe("removeSmallRegionsRowMajor — holes", () => {
  const m = maskFromRows(["11111", "10111", "11100", "11111", "11111"]);
  it("fills holes below the threshold, including small background at the border (SAM's rule)", () => {
    // Background components: {(1,1)} size 1 and {(2,3), (2,4)} size 2 (touches the border).
    const t2 = removeSmallRegionsRowMajor(m.mask, m.h, m.w, 2, "holes");
    expect(t2.changed).toBe(true);
    expect(rowsOf(t2.mask, m.w)).toEqual(["11111", "11111", "11100", "11111", "11111"]);
    const t3 = removeSmallRegionsRowMajor(m.mask, m.h, m.w, 3, "holes");
    expect(rowsOf(t3.mask, m.w)).toEqual(["11111", "11111", "11111", "11111", "11111"]);
  });
  it("threshold is strict: a hole of exactly areaThresh stays", () => {
    const r = removeSmallRegionsRowMajor(m.mask, m.h, m.w, 1, "holes");
    expect(r.changed).toBe(false);
    expect(r.mask).toBe(m.mask);
  });
  it("background pixels touching diagonally are one component (8-connectivity)", () => {
    const d = maskFromRows(["1111", "1011", "1101", "1111"]);
    // 4-connectivity would see two holes of 1 and fill both; with 8 it is one hole of 2.
    expect(removeSmallRegionsRowMajor(d.mask, d.h, d.w, 2, "holes").changed).toBe(false);
    expect(rowsOf(removeSmallRegionsRowMajor(d.mask, d.h, d.w, 3, "holes").mask, d.w)).toEqual([
      "1111",
      "1111",
      "1111",
      "1111",
    ]);
  });
});

describe("removeSmallRegionsRowMajor — islands", () => {
  const m = maskFromRows(["110000", "110001", "000000", "000100", "000010"]);
  // Islands: 2×2 block (4 px), (1,5) (1 px), {(3,3), (4,4)} diagonal pair (2 px).
  it("removes islands below the threshold", () => {
    expect(rowsOf(removeSmallRegionsRowMajor(m.mask, m.h, m.w, 2, "islands").mask, m.w)).toEqual([
      "110000",
      "110000",
      "000000",
      "000100",
      "000010",
    ]);
    expect(rowsOf(removeSmallRegionsRowMajor(m.mask, m.h, m.w, 3, "islands").mask, m.w)).toEqual([
      "110000",
      "110000",
      "000000",
      "000000",
      "000000",
    ]);
  });
  it("keeps the largest island when all are small", () => {
    const r = removeSmallRegionsRowMajor(m.mask, m.h, m.w, 10, "islands");
    expect(r.changed).toBe(true);
    expect(rowsOf(r.mask, m.w)).toEqual(["110000", "110000", "000000", "000000", "000000"]);
  });
  it("one small island: kept as the largest, yet reported changed (SAM's flag)", () => {
    const one = maskFromRows(["000", "010", "000"]);
    const r = removeSmallRegionsRowMajor(one.mask, 3, 3, 5, "islands");
    expect(r.changed).toBe(true);
    expect(r.mask).toEqual(one.mask);
  });
  it("equal-size ties keep cv2's first label: first 2×2 block in raster order", () => {
    // (1,0) lies in block (0,0), met before (0,3) in block (0,1); a pixel raster scan would pick (0,3).
    // cv2.connectedComponentsWithStats (4.14) labels them 1 and 2 in that order.
    const t = maskFromRows(["000100", "100000", "000000"]);
    expect(rowsOf(removeSmallRegionsRowMajor(t.mask, 3, 6, 5, "islands").mask, 6)).toEqual([
      "000000",
      "100000",
      "000000",
    ]);
  });
  it("an empty mask is left alone", () => {
    const r = removeSmallRegionsRowMajor(new Uint8Array(6), 2, 3, 5, "islands");
    expect(r.changed).toBe(false);
  });
});

describe("removeSmallRegionsRowMajor — cv2 reference", () => {
  // Produced by SAM's remove_small_regions logic with cv2 4.14 (numpy default_rng(11), p = 0.55), area 4.
  const input = [
    "001101111100",
    "001011000001",
    "111011010110",
    "011011110101",
    "101111110110",
    "011000110000",
    "110000110100",
    "011010111001",
    "001000111001",
  ];
  const { h, w, mask } = maskFromRows(input);
  it("holes", () => {
    const r = removeSmallRegionsRowMajor(mask, h, w, 4, "holes");
    expect(r.changed).toBe(true);
    expect(rowsOf(r.mask, w)).toEqual([
      "001101111100",
      "001011000001",
      "111011010110",
      "111011110101",
      "111111110110",
      "111000110000",
      "110000110100",
      "111010111001",
      "111000111001",
    ]);
  });
  it("islands", () => {
    const r = removeSmallRegionsRowMajor(mask, h, w, 4, "islands");
    expect(r.changed).toBe(true);
    expect(rowsOf(r.mask, w)).toEqual([
      "001101111100",
      "001011000001",
      "111011010110",
      "011011110101",
      "101111110110",
      "011000110000",
      "110000110100",
      "011000111000",
      "001000111000",
    ]);
  });
  it("does not modify its input", () => {
    expect(rowsOf(mask, w)).toEqual(input);
  });
});
