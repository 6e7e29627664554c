/**
 * The search page as the app serves it (markup, static files, CSP), its module graph, and its mask
 * overlay, whose RLE decoding is src/lib/masks's own. The page in a browser: test/e2e/browser.test.ts
 * (Node server) and test/edge/page.test.ts (Worker).
 */
import { afterEach, describe, expect, it } from "vitest";
import { drawMaskOverlay } from "../../src/lib/api/page/overlay.js";
import { PAGE_FILES, pageFileUrl, type PageFile } from "../../src/lib/api/page.js";
import * as rleDecode from "../../src/lib/masks/rle-decode.js";
import {
  rleCountsFromString,
  rleCountsToString,
  rleDecodeToRowMajor,
  rleEncodeRowMajor,
} from "../../src/lib/masks/rle.js";
import { readPageFiles } from "../../src/node/server/page-files.js";
import { makeHarness, type Harness } from "./harness.js";

/** Just enough of a canvas for drawMaskOverlay: createImageData + putImageData. */
function fakeCanvas() {
  const canvas = {
    width: 0,
    height: 0,
    data: undefined as Uint8ClampedArray | undefined,
    getContext: () => ({
      createImageData: (w: number, h: number) => ({ data: new Uint8ClampedArray(w * h * 4) }),
      putImageData: (img: { data: Uint8ClampedArray }) => (canvas.data = img.data),
    }),
  };
  return canvas;
}
const draw = (
  canvas: ReturnType<typeof fakeCanvas>,
  ...args: [Parameters<typeof drawMaskOverlay>[1], number]
) => drawMaskOverlay(canvas as unknown as HTMLCanvasElement, ...args);

const files = readPageFiles();
const jsFiles = PAGE_FILES.filter((f) => f.endsWith(".js"));

/** The specifiers of a module's static imports and exports-from. */
function importsOf(source: string): string[] {
  return [
    ...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
    ...source.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
  ].map((m) => m[1]!);
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("search page", () => {
  it("GET / serves the page under a strict CSP, with every file it loads", async () => {
    h = await makeHarness({ apiKeys: { k: "t" }, page: files });
    const res = await h.app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const html = await res.text();
    expect(html).toBe(files["api/page/index.html"]);
    for (const id of [
      "search-form",
      "query",
      "file-input",
      "dropzone",
      "uploads",
      "results",
      "similar",
      "api-key",
    ]) {
      expect(html).toContain(`id="${id}"`);
    }
    // CSP-friendly markup: no inline handlers, no inline scripts or styles.
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/style=/);
    expect(html).toContain(`<link rel="stylesheet" href="${pageFileUrl("api/page/app.css")}">`);
    expect(html).toContain(
      `<script type="module" src="${pageFileUrl("api/page/app.js")}"></script>`,
    );
    // Served without an API key: the page itself is public, the data behind it is not.
    const types = { html: "text/html", css: "text/css", js: "text/javascript" } as Record<
      string,
      string
    >;
    for (const file of PAGE_FILES) {
      const asset = await h.app.request(pageFileUrl(file));
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get("content-type")).toBe(
        `${types[file.split(".").pop()!]}; charset=utf-8`,
      );
      expect(asset.headers.get("content-security-policy")).toBe(csp);
      expect(asset.headers.get("x-content-type-options")).toBe("nosniff");
      expect(asset.headers.get("referrer-policy")).toBe("no-referrer");
      expect(asset.headers.get("cache-control")).toBe("no-cache");
      expect(await asset.text()).toBe(files[file]);
    }
    expect((await h.app.request("/page/api/page.ts")).status).toBe(404);
    expect((await h.app.request("/v1/search?q=x")).status).toBe(401);
  });

  it("an app given no page files serves none", async () => {
    h = await makeHarness({});
    expect((await h.app.request("/")).status).toBe(404);
    expect((await h.app.request(pageFileUrl("api/page/app.js"))).status).toBe(404);
  });

  it("every module is typechecked, browser-safe, and imports only files the app serves", () => {
    const served = new Set(PAGE_FILES.map((f) => pageFileUrl(f)));
    const reached = new Set<string>();
    for (const file of jsFiles) {
      const source = files[file];
      expect(source.startsWith("// @ts-check\n"), `${file} starts with // @ts-check`).toBe(true);
      for (const spec of importsOf(source)) {
        // Resolved as the browser does, against the module's own URL.
        const target = new URL(spec, `http://page${pageFileUrl(file)}`);
        expect(spec, `${file} imports ${spec}: relative, not a package or a Node built-in`).toMatch(
          /^\.\.?\//,
        );
        expect(
          served.has(target.pathname),
          `${file} imports ${target.pathname}, which is served`,
        ).toBe(true);
        reached.add(target.pathname);
      }
    }
    // Nothing is served that the entry module does not reach (index.html and app.css aside).
    const entries = [
      "api/page/index.html",
      "api/page/app.css",
      "api/page/app.js",
    ] satisfies PageFile[];
    expect([...served].filter((u) => !reached.has(u)).sort()).toEqual(
      entries.map((f) => pageFileUrl(f)).sort(),
    );
  });

  it("decodes masks with src/lib/masks: the page's decoder is the server's, not a copy", () => {
    expect(importsOf(files["api/page/overlay.js"])).toContain("../../masks/rle-decode.js");
    expect(rleDecodeToRowMajor).toBe(rleDecode.rleDecodeToRowMajor);
    expect(rleCountsFromString).toBe(rleDecode.rleCountsFromString);
    expect(importsOf(files["masks/rle-decode.js"])).toEqual([]);
    // Counts above 2^31 stay exact (no 32-bit shifts).
    const big = [3_599_999_900, 100, 7, 2_500_000_000];
    expect(rleCountsFromString(rleCountsToString(big))).toEqual(big);
  });

  it("draws the overlay: mask pixels counted, tint inside, outline on the edge, outside dimmed", () => {
    const m = new Uint8Array(20 * 30);
    for (let y = 5; y < 15; y++) for (let x = 10; x < 20; x++) m[y * 30 + x] = 1;
    const rle = rleEncodeRowMajor(m, 20, 30);
    const canvas = fakeCanvas();
    expect(draw(canvas, rle, 640)).toBe(100);
    expect([canvas.width, canvas.height]).toEqual([30, 20]);
    const px = (x: number, y: number) =>
      Array.from(canvas.data!.slice((y * 30 + x) * 4, (y * 30 + x) * 4 + 4));
    expect(px(15, 10)).toEqual([0, 190, 255, 80]); // inside: tint
    expect(px(10, 10)).toEqual([255, 40, 160, 255]); // edge: outline
    expect(px(0, 0)).toEqual([0, 0, 0, 110]); // outside: dimmed
    // Downscaled to at most 15 px per side, the share of mask pixels is kept.
    const small = fakeCanvas();
    const inside = draw(small, rle, 15);
    expect([small.width, small.height]).toEqual([15, 10]);
    expect(inside / (15 * 10)).toBeCloseTo(100 / 600, 2);
  });

  it("refuses a mask whose runs do not cover its size (the card then shows no overlay)", () => {
    expect(() =>
      draw(fakeCanvas(), { size: [4, 4], counts: rleCountsToString([3, 2]) }, 640),
    ).toThrow(/cover 5 pixels/);
  });
});
