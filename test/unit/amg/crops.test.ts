import { describe, expect, it } from "vitest";
import {
  generateCropBoxes,
  isBoxNearCropEdge,
  uncropBoxXyxy,
  uncropMaskRowMajor,
} from "../../../src/lib/amg/crops.js";

describe("generateCropBoxes", () => {
  it("no layers → the full image only", () => {
    expect(generateCropBoxes(600, 800, 0, 512 / 1500)).toEqual({
      boxes: [[0, 0, 800, 600]],
      layerIdxs: [0],
    });
  });

  it("600×800, two layers, SAM's default overlap ratio (worked by hand)", () => {
    // short side 600.
    // Layer 1: n = 2, overlap = int(0.34133·600·1) = int(204.8) = 204;
    //   crop_w = ceil((204 + 800)/2) = 502, crop_h = ceil((204 + 600)/2) = 402;
    //   x0 ∈ {0, 502−204 = 298}, y0 ∈ {0, 402−204 = 198}; x1 = min(x0 + 502, 800).
    // Layer 2: n = 4, overlap = int(0.34133·600·0.5) = int(102.4) = 102;
    //   crop_w = ceil((3·102 + 800)/4) = ceil(276.5) = 277, crop_h = ceil((306 + 600)/4) = ceil(226.5) = 227;
    //   x0 ∈ {0, 175, 350, 525}, y0 ∈ {0, 125, 250, 375}; the last column/row is clipped (525+277 = 802 → 800).
    const { boxes, layerIdxs } = generateCropBoxes(600, 800, 2, 512 / 1500);
    expect(boxes.slice(0, 5)).toEqual([
      [0, 0, 800, 600],
      [0, 0, 502, 402],
      [0, 198, 502, 600],
      [298, 0, 800, 402],
      [298, 198, 800, 600],
    ]);
    expect(boxes.length).toBe(1 + 4 + 16);
    expect(layerIdxs).toEqual([0, 1, 1, 1, 1, ...Array<number>(16).fill(2)]);
    expect(boxes.slice(5, 9)).toEqual([
      [0, 0, 277, 227],
      [0, 125, 277, 352],
      [0, 250, 277, 477],
      [0, 375, 277, 600],
    ]);
    expect(boxes[9]).toEqual([175, 0, 452, 227]); // x-major order: next x offset, first y offset
    expect(boxes[20]).toEqual([525, 375, 800, 600]);
  });

  it("portrait image with zero overlap tiles exactly", () => {
    // 101×50, n = 2, overlap 0: crop_w = ceil(50/2) = 25, crop_h = ceil(101/2) = 51.
    const { boxes } = generateCropBoxes(101, 50, 1, 0);
    expect(boxes.slice(1)).toEqual([
      [0, 0, 25, 51],
      [0, 51, 25, 101],
      [25, 0, 50, 51],
      [25, 51, 50, 101],
    ]);
  });
});

describe("isBoxNearCropEdge", () => {
  const orig: [number, number, number, number] = [0, 0, 800, 600];
  const crop: [number, number, number, number] = [298, 0, 800, 402];
  it("flags a box cut by an inner crop edge, not by the image edge", () => {
    // Box in crop frame [5, 100, 50, 150] → image [303, 100, 348, 150]: x0 is 5 px from the crop's left edge.
    expect(isBoxNearCropEdge([5, 100, 50, 150], crop, orig)).toBe(true);
    // Touching only the crop's top edge, which is also the image's top edge → kept.
    expect(isBoxNearCropEdge([100, 0, 150, 50], crop, orig)).toBe(false);
    // Near the crop's bottom (402), which is inside the image.
    expect(isBoxNearCropEdge([100, 300, 150, 390], crop, orig)).toBe(true);
    // Well inside.
    expect(isBoxNearCropEdge([100, 100, 150, 150], crop, orig)).toBe(false);
  });
  it("atol is inclusive (isclose) and configurable", () => {
    expect(isBoxNearCropEdge([20, 100, 50, 150], crop, orig)).toBe(true); // |318 − 298| = 20 ≤ 20
    expect(isBoxNearCropEdge([21, 100, 50, 150], crop, orig)).toBe(false);
    expect(isBoxNearCropEdge([21, 100, 50, 150], crop, orig, 30)).toBe(true);
  });
  it("the full-image crop never flags anything", () => {
    expect(isBoxNearCropEdge([0, 0, 800, 600], orig, orig)).toBe(false);
  });
});

describe("uncrop helpers", () => {
  it("shift boxes by the crop origin", () => {
    expect(uncropBoxXyxy([1, 2, 3, 4], [10, 20, 50, 60])).toEqual([11, 22, 13, 24]);
  });
  it("pads a crop mask into the full frame", () => {
    const crop = Uint8Array.from([1, 0, 1, 1, 0, 1]); // 2 rows × 3 cols
    const full = uncropMaskRowMajor(crop, [1, 2, 4, 4], 5, 4);
    expect(Array.from(full)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0]);
    const whole = Uint8Array.from([1, 0, 0, 1]);
    expect(uncropMaskRowMajor(whole, [0, 0, 2, 2], 2, 2)).toBe(whole);
  });
});
