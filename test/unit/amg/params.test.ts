import { describe, expect, it } from "vitest";
import {
  amgParamsSchema,
  resolveAmgParams,
  SAM_AMG_DEFAULTS,
} from "../../../src/lib/amg/params.js";

describe("SAM_AMG_DEFAULTS", () => {
  it("are segment-anything's SamAutomaticMaskGenerator defaults, with our mask-level dedupe off", () => {
    expect(SAM_AMG_DEFAULTS).toEqual({
      pointsPerSide: 32,
      pointsPerBatch: 64,
      predIouThresh: 0.88,
      stabilityScoreThresh: 0.95,
      stabilityScoreOffset: 1.0,
      boxNmsThresh: 0.7,
      cropNLayers: 0,
      cropNmsThresh: 0.7,
      cropOverlapRatio: 512 / 1500,
      cropNPointsDownscaleFactor: 1,
      minMaskRegionArea: 0,
      maskNmsThresh: 1,
      containedThresh: 1,
    });
    expect(Object.isFrozen(SAM_AMG_DEFAULTS)).toBe(true);
  });
});

describe("resolveAmgParams", () => {
  it("no overrides → a copy of the defaults", () => {
    const p = resolveAmgParams(undefined);
    expect(p).toEqual(SAM_AMG_DEFAULTS);
    expect(p).not.toBe(SAM_AMG_DEFAULTS);
    expect(resolveAmgParams(null)).toEqual(SAM_AMG_DEFAULTS);
    expect(resolveAmgParams({})).toEqual(SAM_AMG_DEFAULTS);
  });
  it("merges good overrides over the defaults", () => {
    const p = resolveAmgParams({
      pointsPerSide: 16,
      predIouThresh: 0.5,
      cropNLayers: 1,
      cropNPointsDownscaleFactor: 2,
      minMaskRegionArea: 100,
    });
    expect(p).toEqual({
      ...SAM_AMG_DEFAULTS,
      pointsPerSide: 16,
      predIouThresh: 0.5,
      cropNLayers: 1,
      cropNPointsDownscaleFactor: 2,
      minMaskRegionArea: 100,
    });
  });
  it.each([
    [{ pointsPerSide: 0 }, "pointsPerSide"],
    [{ pointsPerSide: 12.5 }, "pointsPerSide"],
    [{ pointsPerSide: "32" }, "pointsPerSide"],
    [{ predIouThresh: 1.5 }, "predIouThresh"],
    [{ stabilityScoreThresh: -0.1 }, "stabilityScoreThresh"],
    [{ maskNmsThresh: 1.5 }, "maskNmsThresh"],
    [{ containedThresh: -0.5 }, "containedThresh"],
    [{ stabilityScoreOffset: Number.NaN }, "stabilityScoreOffset"],
    [{ boxNmsThresh: Infinity }, "boxNmsThresh"],
    [{ cropOverlapRatio: 1 }, "cropOverlapRatio"],
    [{ cropNLayers: 9 }, "cropNLayers"],
    [{ minMaskRegionArea: -1 }, "minMaskRegionArea"],
    [{ pointPerSide: 16 }, "pointPerSide"], // typo: unknown keys are refused
  ])("rejects %j naming %s", (overrides, key) => {
    expect(() => resolveAmgParams(overrides)).toThrow(new RegExp(`"${key}"`));
  });
  it("rejects non-objects", () => {
    expect(() => resolveAmgParams(16)).toThrow(/invalid AMG parameters/);
    expect(() => resolveAmgParams([1, 2])).toThrow(/invalid AMG parameters/);
  });
  it("rejects a downscale that leaves a crop layer without points", () => {
    expect(() =>
      resolveAmgParams({ pointsPerSide: 4, cropNLayers: 2, cropNPointsDownscaleFactor: 4 }),
    ).toThrow(/cropNPointsDownscaleFactor/);
  });
  it("the schema alone accepts partial objects", () => {
    expect(amgParamsSchema.safeParse({ boxNmsThresh: 0.5 }).success).toBe(true);
    expect(amgParamsSchema.safeParse({ boxNmsThresh: 2 }).success).toBe(false);
  });
});
