import { describe, expect, it } from "vitest";
import { classifyTopRegion, counted } from "../../../test/bench/eval/failures.js";

const W = 20,
  H = 10;
/** Filled rectangle, inclusive corners. */
function rect(x0: number, y0: number, x1: number, y1: number) {
  const m = new Uint8Array(H * W);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * W + x] = 1;
  return counted(m);
}
// Two objects side by side: target 0 on the left, a neighbour on the right.
const objects = [rect(0, 0, 4, 4), rect(10, 0, 14, 4)];

describe("classifyTopRegion", () => {
  it("hit when the top region overlaps the target at IoU >= 0.5", () => {
    expect(classifyTopRegion(rect(0, 0, 4, 3), 0, objects, true)).toBe("hit");
  });
  it("unreachable when no region matches the target, even if top is elsewhere", () => {
    expect(classifyTopRegion(rect(10, 0, 14, 4), 0, objects, false)).toBe("unreachable");
    expect(classifyTopRegion(null, 0, objects, false)).toBe("unreachable");
  });
  it("another object, a part of another object", () => {
    expect(classifyTopRegion(rect(10, 0, 14, 4), 0, objects, true)).toBe("otherObject");
    expect(classifyTopRegion(rect(10, 0, 11, 1), 0, objects, true)).toBe("partOfOther");
  });
  it("a merge of target and neighbour, a part of the target, background", () => {
    expect(classifyTopRegion(rect(0, 0, 14, 4), 0, objects, true)).toBe("merge");
    expect(classifyTopRegion(rect(0, 0, 1, 1), 0, objects, true)).toBe("part");
    expect(classifyTopRegion(rect(5, 5, 9, 9), 0, objects, true)).toBe("background");
  });
});
