import { describe, expect, it } from "vitest";
import {
  intersectionRowMajor,
  suppressDuplicateMasks,
  type DedupeRegion,
} from "../../../src/lib/amg/dedupe.js";
import { maskToBoxXyxyRowMajor } from "../../../src/lib/masks/boxes.js";

const H = 20,
  W = 24;

/** A region from a filled rectangle (inclusive corners), optionally minus an inner rectangle. */
function rect(
  name: string,
  predictedIou: number,
  [x0, y0, x1, y1]: number[],
  hole?: number[],
): DedupeRegion & { name: string } {
  const mask = new Uint8Array(H * W);
  for (let y = y0!; y <= y1!; y++) for (let x = x0!; x <= x1!; x++) mask[y * W + x] = 1;
  if (hole)
    for (let y = hole[1]!; y <= hole[3]!; y++)
      for (let x = hole[0]!; x <= hole[2]!; x++) mask[y * W + x] = 0;
  const area = mask.reduce((s, v) => s + v, 0);
  return { name, mask, boxXyxy: maskToBoxXyxyRowMajor(mask, H, W), area, predictedIou };
}
const names = (rs: { name: string }[]) => rs.map((r) => r.name);
const OFF = { maskNmsThresh: 1, containedThresh: 1 };

describe("intersectionRowMajor", () => {
  it("counts shared pixels, 0 for disjoint boxes", () => {
    expect(intersectionRowMajor(rect("a", 1, [0, 0, 9, 9]), rect("b", 1, [5, 5, 14, 14]), W)).toBe(
      25,
    );
    expect(
      intersectionRowMajor(rect("a", 1, [0, 0, 3, 3]), rect("b", 1, [10, 10, 12, 12]), W),
    ).toBe(0);
  });
  it("sees masks that share a box but not pixels (a ring and the disc in its hole)", () => {
    const ring = rect("ring", 1, [0, 0, 9, 9], [2, 2, 7, 7]);
    expect(intersectionRowMajor(ring, rect("core", 1, [3, 3, 6, 6]), W)).toBe(0);
  });
});

describe("suppressDuplicateMasks", () => {
  it("keeps everything with both thresholds at 1 (SAM behaviour)", () => {
    const rs = [
      rect("a", 0.9, [0, 0, 9, 9]),
      rect("a-copy", 0.8, [0, 0, 9, 9]),
      rect("part", 0.7, [0, 0, 3, 3]),
    ];
    expect(names(suppressDuplicateMasks(rs, W, OFF))).toEqual(["a", "a-copy", "part"]);
  });
  it("drops the lower-predicted of two masks with IoU above maskNmsThresh, whatever the input order", () => {
    const big = rect("big", 0.8, [0, 0, 9, 9]); // 100 px
    const near = rect("near", 0.9, [0, 0, 9, 7]); // 80 px inside big: IoU 0.8
    const t = { maskNmsThresh: 0.7, containedThresh: 1 };
    expect(names(suppressDuplicateMasks([big, near], W, t))).toEqual(["near"]);
    expect(names(suppressDuplicateMasks([near, big], W, { ...t, maskNmsThresh: 0.8 }))).toEqual([
      "near",
      "big",
    ]); // IoU 0.8 is not > 0.8
  });
  it("drops a sub-part inside a better-predicted region, but not a better-predicted part", () => {
    const whole = rect("whole", 0.9, [0, 0, 9, 9]);
    const part = rect("part", 0.6, [0, 0, 4, 4]); // IoU 0.25: only containment removes it
    const t = { maskNmsThresh: 0.5, containedThresh: 0.9 };
    expect(names(suppressDuplicateMasks([whole, part], W, t))).toEqual(["whole"]);
    expect(names(suppressDuplicateMasks([whole, { ...part, predictedIou: 0.95 }], W, t))).toEqual([
      "whole",
      "part",
    ]);
  });
  it("keeps overlapping neighbours below both thresholds, and returns input order", () => {
    const left = rect("left", 0.7, [0, 0, 9, 9]);
    const right = rect("right", 0.9, [8, 0, 17, 9]); // shares 20 of its 100 px
    const far = rect("far", 0.8, [20, 15, 23, 19]);
    expect(
      names(
        suppressDuplicateMasks([left, right, far], W, { maskNmsThresh: 0.5, containedThresh: 0.9 }),
      ),
    ).toEqual(["left", "right", "far"]);
  });
  it("suppression is only by KEPT regions (no chain through a dropped one)", () => {
    const a = rect("a", 0.9, [0, 0, 9, 9]);
    const b = rect("b", 0.8, [0, 0, 9, 11]); // IoU with a 100/120 > 0.8: dropped
    const c = rect("c", 0.7, [0, 2, 9, 13]); // IoU with b 100/140 > 0.7 but with a only 80/140: kept
    expect(
      names(suppressDuplicateMasks([a, b, c], W, { maskNmsThresh: 0.7, containedThresh: 1 })),
    ).toEqual(["a", "c"]);
  });
  it("drops empty masks only when suppression is on", () => {
    const empty = { ...rect("empty", 0.99, [0, 0, 0, 0]), mask: new Uint8Array(H * W), area: 0 };
    const a = rect("a", 0.5, [0, 0, 3, 3]);
    expect(
      names(suppressDuplicateMasks([empty, a], W, { maskNmsThresh: 0.5, containedThresh: 1 })),
    ).toEqual(["a"]);
  });
});
