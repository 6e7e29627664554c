import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  rleArea,
  rleCountsFromRowMajorMask,
  rleCountsFromString,
  rleCountsToString,
  rleDecodeToRowMajor,
  rleEncodeRowMajor,
  rleIou,
  rleToBoxXywh,
} from "../../../src/lib/masks/rle.js";
import { arbMask, bruteBounds, maskFromRows } from "./helpers.js";

describe("RLE hand-checked vectors", () => {
  it("2×3 mask", () => {
    // rows: 0 1 1 / 1 1 0. Column-major read: col0 (0,1), col1 (1,1), col2 (1,0) → 0 1 1 1 1 0.
    // Runs: zeros 1, ones 4, zeros 1 → counts [1, 4, 1]; each < 16 → one char each: 48+1, 48+4, 48+1.
    const { h, w, mask } = maskFromRows(["011", "110"]);
    expect(rleCountsFromRowMajorMask(mask, h, w)).toEqual([1, 4, 1]);
    expect(rleEncodeRowMajor(mask, h, w)).toEqual({ size: [2, 3], counts: "141" });
  });

  it("4×4 mask with negative deltas", () => {
    // Column-major: col0 1 1 1 0 | col1 0 0 0 0 | col2 0 0 1 1 | col3 0 0 0 1
    // Runs: zeros 0, ones 3, zeros 1+4+2 = 7, ones 2, zeros 3, ones 1 → [0, 3, 7, 2, 3, 1].
    // Strings: i0..i2 plain → "0", "3", "7"; i3: 2 − 3 = −1 → low 5 bits 31 (sign bit set), rest −1
    // → stop → char 48+31 = "O"; i4: 3 − 7 = −4 → bits 28 (sign set), rest −1 → "L"; i5: 1 − 2 = −1 → "O".
    const { h, w, mask } = maskFromRows(["1000", "1000", "1010", "0011"]);
    expect(rleCountsFromRowMajorMask(mask, h, w)).toEqual([0, 3, 7, 2, 3, 1]);
    const rle = rleEncodeRowMajor(mask, h, w);
    expect(rle.counts).toBe("037OLO");
    expect(rleArea(rle)).toBe(6);
    expect(rleToBoxXywh(rle)).toEqual([0, 0, 4, 4]);
  });

  it("runs of 32 and more use several chars; a positive chunk with bit 4 set needs a terminator", () => {
    // 8×8, columns 5..7 set → runs [40, 24].
    // 40 = 0b1_01000: low 5 bits 8, rest 1 → 8|0x20 = 40 → "X", then 1 → "1".
    // 24 = 0b11000: bit 4 would read as a sign, so another chunk: 24|0x20 = 56 → "h", then 0 → "0".
    const mask = new Uint8Array(64);
    for (let y = 0; y < 8; y++) for (let x = 5; x < 8; x++) mask[y * 8 + x] = 1;
    const rle = rleEncodeRowMajor(mask, 8, 8);
    expect(rle.counts).toBe("X1h0");
    expect(rleToBoxXywh(rle)).toEqual([5, 0, 3, 8]);
  });

  it("multi-char negative delta", () => {
    // 10×10, column-major positions [0,50) and [55,65) set → counts [0, 50, 5, 10, 35].
    // 50 → bits 18 (bit 4 set), rest 1 → 18|0x20 = 50 → "b", then "1".  5 → "5".
    // 10 − 50 = −40 → bits 24, rest −2 → 24|0x20 = 56 → "h"; then bits 30 (sign set), rest −1 → "N".
    // 35 − 5 = 30 → bits 30 (sign set) but value positive → "n" then "0".
    const mask = new Uint8Array(100);
    const setColumnMajor = (q: number): void => {
      mask[(q % 10) * 10 + Math.floor(q / 10)] = 1;
    };
    for (let q = 0; q < 50; q++) setColumnMajor(q);
    for (let q = 55; q < 65; q++) setColumnMajor(q);
    const rle = rleEncodeRowMajor(mask, 10, 10);
    expect(rleCountsFromString(rle.counts)).toEqual([0, 50, 5, 10, 35]);
    expect(rle.counts).toBe("0b15hNn0");
    expect(rleArea(rle)).toBe(60);
    expect(rleToBoxXywh(rle)).toEqual([0, 0, 7, 10]);
  });

  it("all-zero, all-one and empty masks", () => {
    // 3×4 zeros: one run of 12 → char 48+12 = "<". Ones: [0, 12] → "0<".
    expect(rleEncodeRowMajor(new Uint8Array(12), 3, 4)).toEqual({ size: [3, 4], counts: "<" });
    const ones = rleEncodeRowMajor(new Uint8Array(12).fill(1), 3, 4);
    expect(ones.counts).toBe("0<");
    expect(rleArea(ones)).toBe(12);
    expect(rleToBoxXywh(ones)).toEqual([0, 0, 4, 3]);
    expect(rleToBoxXywh({ size: [3, 4], counts: "<" })).toEqual([0, 0, 0, 0]);
    expect(rleEncodeRowMajor(new Uint8Array(0), 0, 0).counts).toBe("0");
  });
});

describe("RLE vectors produced by pycocotools", () => {
  // Squares mask[a:b, a:b] = 1 on 25×25; strings as asserted against pycocotools.mask.encode in
  // twsl/pytorchcocotools tests (test_encode.py, test_merge.py), and re-checked here with
  // pycocotools 2.0.11.
  const square = (a: number, b: number, m: Uint8Array = new Uint8Array(625)): Uint8Array => {
    for (let y = a; y < b; y++) for (let x = a; x < b; x++) m[y * 25 + x] = 1;
    return m;
  };
  it.each([
    [0, 5, "05d00000000d?"],
    [5, 10, "R45d00000000b;"],
    [20, 25, "X`05d00000000"],
    [0, 25, "0ac0"],
    [5, 15, "R4:?00000000000000000e7"],
  ])("25×25 square [%i, %i)", (a, b, counts) => {
    const mask = square(a, b);
    expect(rleEncodeRowMajor(mask, 25, 25).counts).toBe(counts);
    expect(rleDecodeToRowMajor({ size: [25, 25], counts })).toEqual(mask);
    expect(rleArea({ size: [25, 25], counts })).toBe((b - a) ** 2);
    expect(rleToBoxXywh({ size: [25, 25], counts })).toEqual([a, a, b - a, b - a]);
  });

  it("two touching squares", () => {
    const mask = square(10, 15, square(5, 10));
    expect(rleEncodeRowMajor(mask, 25, 25).counts).toBe("R45d0000000050K0000000`7");
  });

  it("a random 7×9 mask (numpy default_rng(7), p = 0.4), pycocotools 2.0.11", () => {
    const { h, w, mask } = maskFromRows([
      "000110100",
      "011100000",
      "001101100",
      "000011101",
      "110110000",
      "010001011",
      "110100000",
    ]);
    const rle = rleEncodeRowMajor(mask, h, w);
    expect(rle.counts).toBe("41100012OO31MN011020MO00017OL0M00");
    expect(rleArea(rle)).toBe(25);
    expect(rleToBoxXywh(rle)).toEqual([0, 0, 9, 7]);
  });

  it("40×37 rectangles, pycocotools 2.0.11", () => {
    const mask = new Uint8Array(40 * 37);
    const fill = (y0: number, y1: number, x0: number, x1: number): void => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * 37 + x] = 1;
    };
    fill(3, 30, 4, 20);
    fill(10, 12, 25, 36);
    fill(35, 36, 0, 1);
    const rle = rleEncodeRowMajor(mask, 40, 37);
    expect(rle.counts).toBe("S11o3j0^L00000000000000000000000000000_6WOZJ0000000000000000000n0");
    expect(rleArea(rle)).toBe(455);
    expect(rleToBoxXywh(rle)).toEqual([0, 3, 36, 33]);
  });

  it("real COCO-sized strings (427×640) survive decode → encode unchanged", () => {
    // From twsl/pytorchcocotools test_encode.py, which round-trips them through pycocotools.
    for (const counts of [
      "\\`_3;j<6M3E_OjCd0T<:O1O2O001O00001O00001O001O0000O1K6J5J6A^C0g<N=O001O0O2Omk^4",
      "RT_32n<<O100O0010O000010O0001O00001O000O101O0ISPc4",
    ]) {
      const mask = rleDecodeToRowMajor({ size: [427, 640], counts });
      expect(rleEncodeRowMajor(mask, 427, 640).counts).toBe(counts);
      expect(rleArea({ size: [427, 640], counts })).toBe(mask.reduce((s, v) => s + v, 0));
    }
  });
});

describe("RLE properties", () => {
  it("decode(encode(m)) = m, area and bbox match brute force", () => {
    fc.assert(
      fc.property(arbMask(), ({ h, w, mask }) => {
        const rle = rleEncodeRowMajor(mask, h, w);
        expect(rle.size).toEqual([h, w]);
        expect(rleDecodeToRowMajor(rle)).toEqual(mask);
        expect(rleArea(rle)).toBe(mask.reduce((s, v) => s + v, 0));
        const b = bruteBounds(mask, h, w);
        expect(rleToBoxXywh(rle)).toEqual(
          b ? [b[0], b[1], b[2] - b[0] + 1, b[3] - b[1] + 1] : [0, 0, 0, 0],
        );
      }),
      { numRuns: 200 },
    );
  });

  it("count strings round-trip for any non-negative counts (large values, big swings)", () => {
    const counts = fc.array(
      fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(counts, (c) => {
        const s = rleCountsToString(c);
        expect(s).toMatch(/^[0-o]*$/); // chars 48..111 only
        expect(rleCountsFromString(s)).toEqual(c);
      }),
    );
  });

  it("rleIou matches pixel IoU", () => {
    const pair = fc
      .record({ h: fc.integer({ min: 1, max: 30 }), w: fc.integer({ min: 1, max: 30 }) })
      .chain(({ h, w }) =>
        fc.tuple(
          fc.constant(h),
          fc.constant(w),
          fc.uint8Array({ minLength: h * w, maxLength: h * w, max: 1 }),
          fc.uint8Array({ minLength: h * w, maxLength: h * w, max: 1 }),
        ),
      );
    fc.assert(
      fc.property(pair, ([h, w, a, b]) => {
        let inter = 0,
          union = 0;
        for (let i = 0; i < a.length; i++) {
          inter += a[i]! & b[i]!;
          union += a[i]! | b[i]!;
        }
        const expected = inter === 0 ? 0 : inter / union;
        expect(rleIou(rleEncodeRowMajor(a, h, w), rleEncodeRowMajor(b, h, w))).toBeCloseTo(
          expected,
          12,
        );
      }),
    );
  });
});

describe("RLE errors", () => {
  it("rejects malformed input", () => {
    expect(() => rleCountsFromString("0 1")).toThrow(/invalid char/);
    expect(() => rleCountsFromString("X")).toThrow(/ends inside a count/); // 'X' has the "more" bit
    expect(() => rleDecodeToRowMajor({ size: [2, 2], counts: "3" })).toThrow(/cover 3 pixels/);
    expect(() => rleEncodeRowMajor(new Uint8Array(5), 2, 3)).toThrow(/expected 2×3/);
    expect(() => rleIou({ size: [1, 2], counts: "2" }, { size: [2, 1], counts: "2" })).toThrow(
      /sizes differ/,
    );
  });
});
