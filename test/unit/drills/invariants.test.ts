/** The durability drill's rules (test/drills/durability/invariants.ts): each violation it must catch. */
import { describe, expect, it } from "vitest";
import {
  isCompleteRun,
  judge,
  newTracked,
  type Observation,
} from "../../drills/durability/invariants.js";

const regions = (n: number, prefix = "r") =>
  Array.from({ length: n }, (_, i) => ({ regionId: `${prefix}${i}`, regionIndex: i }));
const indexed = (n: number, extra: Partial<Observation> = {}): Observation => ({
  httpStatus: 200,
  record: { status: "indexed", regionCount: n },
  regions: regions(n),
  searchIds: regions(n).map((r) => r.regionId),
  ...extra,
});

describe("durability invariants", () => {
  it("accepts a fully indexed image and pins its regions for later restarts", () => {
    const t = newTracked("a", 1);
    expect(judge(t, indexed(3), 2)).toEqual([]);
    expect(t.indexed).toEqual({ regionCount: 3, cycle: 2 });
    expect(t.regionIds).toEqual(["r0", "r1", "r2"]);
    expect(judge(t, indexed(3), 3)).toEqual([]);
  });

  it("flags an indexed image that lost regions, changed ids, or is not fully searchable", () => {
    const t = newTracked("a", 1);
    judge(t, indexed(3), 2);
    expect(judge(t, indexed(3, { regions: regions(2) }), 3)[0]).toMatch(
      /regionCount 3 but the store holds 2/,
    );
    expect(
      judge(t, indexed(3, { regions: regions(3, "x"), searchIds: ["x0", "x1", "x2"] }), 3)[0],
    ).toMatch(/region ids changed/);
    expect(judge(t, indexed(3, { searchIds: ["r0"] }), 3)[0]).toMatch(/returned 1 of 3 regions/);
  });

  it("flags an image reported indexed that went back to queued, failed, or vanished", () => {
    const t = newTracked("a", 1);
    t.indexed = { regionCount: 3, cycle: 1 };
    expect(
      judge(
        t,
        { httpStatus: 200, record: { status: "queued", regionCount: null }, regions: [] },
        2,
      )[0],
    ).toMatch(/was reported indexed/);
    expect(
      judge(
        t,
        { httpStatus: 200, record: { status: "failed", regionCount: null }, regions: [] },
        2,
      )[0],
    ).toMatch(/failed/);
    expect(judge(t, { httpStatus: 404 }, 2)[0]).toMatch(/lost/);
  });

  it("a cut-off upload may be missing; an acknowledged one may not", () => {
    const t = newTracked("a", 1);
    expect(judge(t, { httpStatus: 404 }, 2)).toEqual([]);
    t.acknowledged = true;
    expect(judge(t, { httpStatus: 404 }, 2)).toHaveLength(1);
  });

  it("an unfinished image holds no regions or one whole run, and counts as recovered", () => {
    const t = newTracked("a", 1);
    const processing = (rs: { regionId: string; regionIndex: number }[]): Observation => ({
      httpStatus: 200,
      record: { status: "processing", regionCount: null },
      regions: rs,
    });
    expect(judge(t, processing([]), 2)).toEqual([]);
    expect(judge(t, processing(regions(4)), 3)).toEqual([]);
    expect(t.recoveredAt).toEqual([2, 3]);
    expect(
      judge(
        t,
        processing([
          { regionId: "r0", regionIndex: 0 },
          { regionId: "r2", regionIndex: 2 },
        ]),
        4,
      )[0],
    ).toMatch(/half written/);
  });

  it("isCompleteRun wants indices 0..n-1 exactly once", () => {
    expect(isCompleteRun([])).toBe(true);
    expect(isCompleteRun([{ regionIndex: 1 }, { regionIndex: 0 }])).toBe(true);
    expect(isCompleteRun([{ regionIndex: 0 }, { regionIndex: 0 }])).toBe(false);
    expect(isCompleteRun([{ regionIndex: 1 }])).toBe(false);
  });
});
