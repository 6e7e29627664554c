/**
 * The search page as the app serves it (markup, assets, CSP), and its in-browser mask code checked
 * against the reference RLE implementation in src/lib/masks/rle.ts.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { PAGE_JS } from "../../src/lib/api/page.js";
import { MASK_JS } from "../../src/lib/api/page/mask-js.js";
import { rleCountsToString, rleDecodeToRowMajor, rleEncodeRowMajor } from "../../src/lib/masks/rle.js";
import type { CocoRle } from "../../src/lib/masks/types.js";
import { makeHarness, type Harness } from "./harness.js";

interface FakeCanvas {
  width: number;
  height: number;
  data?: Uint8ClampedArray;
  getContext(kind: "2d"): unknown;
}

const mask = new Function(`${MASK_JS}; return { decodeRle, drawMaskOverlay };`)() as {
  decodeRle(rle: CocoRle): Uint8Array;
  drawMaskOverlay(canvas: FakeCanvas, rle: CocoRle, maxSide: number): number;
};

/** Just enough of a canvas for drawMaskOverlay: createImageData + putImageData. */
function fakeCanvas(): FakeCanvas {
  const canvas: FakeCanvas = {
    width: 0,
    height: 0,
    getContext: () => ({
      createImageData: (w: number, h: number) => ({ data: new Uint8ClampedArray(w * h * 4) }),
      putImageData: (img: { data: Uint8ClampedArray }) => (canvas.data = img.data),
    }),
  };
  return canvas;
}

const maskArb = fc
  .record({ h: fc.integer({ min: 1, max: 24 }), w: fc.integer({ min: 1, max: 24 }) })
  .chain(({ h, w }) => fc.tuple(fc.constant(h), fc.constant(w), fc.uint8Array({ minLength: h * w, maxLength: h * w, max: 1 })));

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("search page", () => {
  it("GET / serves the page under a strict CSP, with its script and stylesheet", async () => {
    h = await makeHarness({ apiKeys: { k: "t" } });
    const res = await h.app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const html = await res.text();
    for (const id of ["search-form", "query", "file-input", "dropzone", "uploads", "results", "similar", "api-key"]) {
      expect(html).toContain(`id="${id}"`);
    }
    // CSP-friendly markup: no inline handlers, no inline scripts or styles.
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/style=/);
    // Served without an API key: the page itself is public, the data behind it is not.
    for (const [path, type] of [["/page/app.js", /^text\/javascript/], ["/page/app.css", /^text\/css/]] as const) {
      const asset = await h.app.request(path);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(type);
    }
    expect((await h.app.request("/v1/search?q=x")).status).toBe(401);
  });

  it("the page script parses", () => {
    expect(() => new Function(PAGE_JS)).not.toThrow();
  });

  it("decodes COCO RLE exactly as src/lib/masks/rle.ts", () => {
    fc.assert(
      fc.property(maskArb, ([mh, mw, bits]) => {
        const rle = rleEncodeRowMajor(bits, mh, mw);
        expect(Array.from(mask.decodeRle(rle))).toEqual(Array.from(rleDecodeToRowMajor(rle)));
      }),
    );
  });

  it("decodes counts above 2^31 (no 32-bit shifts)", () => {
    const counts = new Function(`${MASK_JS}; return rleCounts;`)() as (s: string) => number[];
    const big = [3_599_999_900, 100, 7, 2_500_000_000];
    expect(counts(rleCountsToString(big))).toEqual(big);
  });

  it("draws the overlay: mask pixels counted, tint inside, outline on the edge, outside dimmed", () => {
    const m = new Uint8Array(20 * 30);
    for (let y = 5; y < 15; y++) for (let x = 10; x < 20; x++) m[y * 30 + x] = 1;
    const rle = rleEncodeRowMajor(m, 20, 30);
    const canvas = fakeCanvas();
    expect(mask.drawMaskOverlay(canvas, rle, 640)).toBe(100);
    expect([canvas.width, canvas.height]).toEqual([30, 20]);
    const px = (x: number, y: number) => Array.from(canvas.data!.slice((y * 30 + x) * 4, (y * 30 + x) * 4 + 4));
    expect(px(15, 10)).toEqual([0, 190, 255, 80]); // inside: tint
    expect(px(10, 10)).toEqual([255, 40, 160, 255]); // edge: outline
    expect(px(0, 0)).toEqual([0, 0, 0, 110]); // outside: dimmed
    // Downscaled to at most 15 px per side, the share of mask pixels is kept.
    const small = fakeCanvas();
    const inside = mask.drawMaskOverlay(small, rle, 15);
    expect([small.width, small.height]).toEqual([15, 10]);
    expect(inside / (15 * 10)).toBeCloseTo(100 / 600, 2);
  });
});
