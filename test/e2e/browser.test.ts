/**
 * The search page in a real browser: Debian's Chromium (never a downloaded one), headless, driven by
 * playwright-core against the real local server on a loopback port, with the bundled shapes-tiny pack
 * and API keys on. Two shapes scenes go in through the file picker and the drop zone; one's caption is
 * searched; its card must show that image with a drawn mask overlay matching the result's mask; a
 * keyboard press on it lists similar regions; a click on a point of a result's image, and of an
 * upload's thumbnail, searches for the thing there (query by example). Then a third scene is
 * uploaded with metadata, and a search narrowed by the declared `album` filter shows only that
 * scene, with its name and metadata. Fails (never skips) when Chromium is missing.
 */
import { serve, type ServerType } from "@hono/node-server";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rleDecodeToRowMajor } from "../../src/lib/masks/rle-decode.js";
import { rleArea, rleToBoxXywh } from "../../src/lib/masks/rle.js";
import { createLogger } from "../../src/node/logging.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { loadModels, type Models } from "../../src/node/server/models.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";

const CHROMIUM = "/usr/bin/chromium";
const API_KEY = "browser-test-key";
const SCREENSHOT = "results/screenshots/search-page.png";
const scenes = readShapesSplit(SHAPES_FIXTURE_DIR, 2);
/** A third scene, uploaded with metadata. */
const tagged = readShapesSplit(SHAPES_FIXTURE_DIR, 3)[2]!;

let models: Models;
let server: Awaited<ReturnType<typeof buildLocalServer>>;
let http: ServerType;
let base: string;
let dataDir: string;
let profileDir: string;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

async function listen(
  fetch: (req: Request) => Response | Promise<Response>,
): Promise<{ http: ServerType; port: number }> {
  return new Promise((resolve) => {
    const s = serve({ fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve({ http: s, port: info.port }),
    );
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "rs-browser-"));
  profileDir = await mkdtemp(path.join(tmpdir(), "rs-chromium-"));
  models = await loadModels({
    packDir: "models/shapes-tiny",
    session: { intraOpNumThreads: 2, interOpNumThreads: 1 },
  });
  server = await buildLocalServer(
    {
      dataDir,
      limits: {},
      apiKeys: { [API_KEY]: "browser" },
      ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 },
      vectorIndexThreshold: 50_000,
      metadataFields: [
        { key: "album", type: "keyword" },
        { key: "year", type: "integer" },
      ],
    },
    models,
    createLogger("silent"),
  );
  const listening = await listen(server.app.fetch);
  http = listening.http;
  base = `http://127.0.0.1:${listening.port}`;
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // 401s before the key is saved are expected; anything else (CSP violations, exceptions) is not.
    if (m.type() === "error" && !/status of 401/.test(m.text()))
      pageErrors.push(`console: ${m.text()}`);
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  await server?.close();
  await models?.release();
  for (const dir of [dataDir, profileDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** The pixel of a mask nearest the middle of its box: a point on the thing itself. */
function pointOn(mask: { size: [number, number]; counts: string }): [number, number] {
  const [height, width] = mask.size;
  const bits = rleDecodeToRowMajor(mask);
  const [bx, by, bw, bh] = rleToBoxXywh(mask);
  let point: [number, number] = [0, 0];
  let best = Infinity;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const d = (x - bx - bw / 2) ** 2 + (y - by - bh / 2) ** 2;
      if (bits[y * width + x] && d < best) [best, point] = [d, [x, y]];
    }
  return point;
}

/** Clicks image pixel `point` of an `<img>` drawn with `object-fit: contain`; answers the scale. */
async function clickPixel(img: Locator, point: [number, number], [width, height]: number[]) {
  await img.scrollIntoViewIfNeeded();
  const box = (await img.boundingBox())!;
  const scale = Math.min(box.width / width!, box.height / height!);
  await page.mouse.click(
    box.x + (box.width - width! * scale) / 2 + (point[0] + 0.5) * scale,
    box.y + (box.height - height! * scale) / 2 + (point[1] + 0.5) * scale,
  );
  return scale;
}

describe("search page in Chromium", () => {
  it("Debian's Chromium is installed (the browser test never skips)", () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium`).toBe(true);
  });

  it("asks for the API key, uploads scenes, searches a caption, shows the mask, finds similar regions", async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector("body[data-ready=true]");

    // Without a key the server refuses, and the page says so.
    await page.fill("#query", "anything");
    await page.press("#query", "Enter");
    await expect.poll(() => page.textContent("#status")).toMatch(/needs an API key/);
    await page.fill("#api-key", API_KEY);
    await page.click("#key-form button[type=submit]");
    expect(await page.evaluate(() => localStorage.getItem("region-search.apiKey"))).toBe(API_KEY);
    await page.selectOption("#limit", "12");

    // One scene through the file picker, one dropped on the drop zone; each row ends "indexed · N regions".
    await page.setInputFiles("#file-input", scenes[0]!.png);
    await page.evaluate(
      ({ b64, name }) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, { type: "image/png" }));
        document
          .getElementById("dropzone")!
          .dispatchEvent(
            new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }),
          );
      },
      { b64: readFileSync(scenes[1]!.png).toString("base64"), name: path.basename(scenes[1]!.png) },
    );
    await page.waitForFunction(
      (n) => document.querySelectorAll("#uploads li[data-state=indexed]").length === n,
      scenes.length,
      { timeout: 150_000 },
    );
    const ids = scenes.map((s) => createHash("sha256").update(readFileSync(s.png)).digest("hex"));
    const rows = await page.$$eval("#uploads li", (lis) =>
      lis.map((li) => ({
        id: (li as HTMLElement).dataset.imageId,
        text: li.textContent ?? "",
        progress: li.querySelector("progress")!.value,
      })),
    );
    expect(rows.map((r) => r.id)).toEqual(ids);
    for (const r of rows) {
      expect(r.text).toMatch(/indexed · \d+ regions?/);
      expect(r.progress).toBe(100);
    }

    // Search the first scene's caption with one result per image: the card of that scene is there.
    const scene = scenes[0]!;
    const target = scene.objects.find((o) => o.caption_unique) ?? scene.objects[0]!;
    const searched = page.waitForResponse(
      (r) => r.url().endsWith("/v1/search") && r.request().postDataJSON()?.query === target.caption,
    );
    await page.fill("#query", target.caption);
    await page.press("#query", "Enter");
    expect((await searched).status()).toBe(200);
    const response = (await (await searched).json()) as {
      results: {
        imageId: string;
        regionId: string;
        mask: { size: [number, number]; counts: string };
      }[];
    };
    const hit = response.results.find((r) => r.imageId === ids[0]);
    expect(hit, "the uploaded scene is among the results").toBeDefined();
    const card = page.locator(`#results .card[data-region-id="${hit!.regionId}"]`);
    await expect.poll(() => card.getAttribute("data-image-id")).toBe(ids[0]);

    // The image is the uploaded one, loaded at its own size.
    await expect
      .poll(() =>
        card.locator("img").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
      )
      .toBe(scene.width);
    expect(await card.locator("img").evaluate((img: HTMLImageElement) => img.naturalHeight)).toBe(
      scene.height,
    );

    // The overlay is drawn, has the image's aspect ratio, and covers the result mask's share of pixels.
    const overlay = await card.locator("canvas").evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let outline = 0;
      let tint = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 255 && data[i]! > 200 && data[i + 2]! > 100) outline++;
        else if (data[i + 3]! > 0 && data[i + 2]! > 200 && data[i]! < 50) tint++;
      }
      return {
        state: c.dataset.overlay,
        inside: Number(c.dataset.maskPixels),
        outline,
        tint,
        w: c.width,
        h: c.height,
      };
    });
    expect(overlay.state).toBe("drawn");
    expect(overlay.w / overlay.h).toBeCloseTo(scene.width / scene.height, 1);
    const expectedShare = rleArea(hit!.mask) / (scene.width * scene.height);
    expect(overlay.inside / (overlay.w * overlay.h)).toBeCloseTo(expectedShare, 2);
    expect(overlay.outline).toBeGreaterThan(0);
    expect(overlay.tint).toBeGreaterThan(0);
    expect(overlay.tint).toBeLessThanOrEqual(overlay.inside);
    await expect.poll(() => card.locator(".regions").textContent()).toMatch(/^\d+ regions?$/);

    // Keyboard: focus the card's image button and press Enter → similar regions appear.
    await card.locator("button.media").focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#similar .card canvas[data-overlay=drawn]");
    expect(await page.getAttribute("#similar-section", "data-source-region")).toBe(hit!.regionId);
    const similar = await page.$$eval("#similar .card", (cards) =>
      cards.map((c) => (c as HTMLElement).dataset.regionId),
    );
    expect(similar.length).toBeGreaterThan(0);
    expect(similar).not.toContain(hit!.regionId);

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT === "1") copyFileSync(SCREENSHOT, "docs/screenshot.png");
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it("a click on a point of a result's image, or of an upload's thumbnail, searches for the thing there", async () => {
    type Rle = { size: [number, number]; counts: string };
    const card = page.locator("#results .card").first();
    const [regionId, imageId] = await Promise.all([
      card.getAttribute("data-region-id"),
      card.getAttribute("data-image-id"),
    ]);
    const region = (await (
      await fetch(`${base}/v1/regions/${regionId}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      })
    ).json()) as { mask: Rle };
    const [height, width] = region.mask.size;
    const point = pointOn(region.mask);
    const answered = page.waitForResponse(
      (r) => r.url().endsWith("/v1/search/similar") && !!r.request().postDataJSON()?.example,
    );
    const scale = await clickPixel(card.locator("img"), point, [width, height]);
    const res = await answered;
    expect(res.status()).toBe(200);
    const sent = res.request().postDataJSON() as { example: { imageId: string; point: number[] } };
    expect(sent.example.imageId).toBe(imageId);
    // The browser reports the click in whole screen pixels, each 1/scale image pixels here.
    const tolerance = Math.ceil(1 / scale) + 1;
    expect(Math.abs(sent.example.point[0]! - point[0])).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(sent.example.point[1]! - point[1])).toBeLessThanOrEqual(tolerance);
    const body = (await res.json()) as { results: { regionId: string }[]; query: { mask: Rle } };
    const query = rleDecodeToRowMajor(body.query.mask);
    const [sx, sy] = sent.example.point as [number, number];
    expect(query[sy * width + sx], "the segmented thing holds the clicked pixel").toBe(1);
    expect(body.results.length).toBeGreaterThan(0);

    // The page shows the clicked thing's mask first, then the regions like it.
    await page.waitForSelector("#similar .card.query canvas[data-overlay=drawn]");
    expect(await page.getAttribute("#similar-section", "data-example-point")).toBe(
      sent.example.point.join(","),
    );
    const shown = await page.$$eval("#similar .card:not(.query)", (cards) =>
      cards.map((c) => (c as HTMLElement).dataset.regionId),
    );
    expect(shown).toEqual(body.results.map((r) => r.regionId));

    // Each indexed upload has a thumbnail; a click on it searches that image.
    const thumbs = page.locator("#uploads .thumb");
    expect(await thumbs.count()).toBe(scenes.length);
    const uploadId = await page.getAttribute("#uploads li:nth-child(2)", "data-image-id");
    await expect
      .poll(() =>
        thumbs
          .nth(1)
          .locator("img")
          .evaluate((i: HTMLImageElement) => i.naturalWidth),
      )
      .toBeGreaterThan(0);
    const fromThumb = page.waitForResponse(
      (r) =>
        r.url().endsWith("/v1/search/similar") &&
        r.request().postDataJSON()?.example?.imageId === uploadId,
    );
    const thing = [...scenes[1]!.objects].sort((x, y) => y.area - x.area)[0]!;
    await clickPixel(thumbs.nth(1).locator("img"), pointOn(thing.mask), [
      scenes[1]!.width,
      scenes[1]!.height,
    ]);
    expect((await fromThumb).status()).toBe(200);
    await expect
      .poll(() => page.getAttribute("#similar .card.query", "data-image-id"))
      .toBe(uploadId);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it("uploads with metadata, and a filtered search shows only the matching image, named, with its metadata", async () => {
    const taggedId = createHash("sha256").update(readFileSync(tagged.png)).digest("hex");
    // The declared fields appear as filter inputs once the key is saved.
    await page.waitForSelector("#filters:not([hidden]) #filter-album");
    expect(
      await page.$$eval("#filters .filter", (f) => f.map((n) => (n as HTMLElement).dataset.field)),
    ).toEqual(["album", "year"]);

    // A third scene with metadata, through the picker.
    await page.click(".upload-metadata summary");
    await page.fill("#upload-metadata", '{"album": "beach", "year": 2024}');
    await page.setInputFiles("#file-input", tagged.png);
    await page.waitForFunction(
      () => document.querySelectorAll("#uploads li[data-state=indexed]").length === 3,
      undefined,
      { timeout: 150_000 },
    );
    await page.fill("#upload-metadata", "");

    // The first scene's caption, filtered to album "beach": only the tagged scene can answer.
    const target = scenes[0]!.objects.find((o) => o.caption_unique) ?? scenes[0]!.objects[0]!;
    await page.fill("#filter-album", "beach");
    await page.fill('[data-key="year"][data-bound="gte"]', "2020");
    const searched = page.waitForResponse(
      (r) => r.url().endsWith("/v1/search") && r.request().postDataJSON()?.query === target.caption,
    );
    await page.fill("#query", target.caption);
    await page.press("#query", "Enter");
    const request = (await searched).request().postDataJSON() as { filter: unknown };
    expect(request.filter).toEqual({
      must: [
        { key: "album", match: { value: "beach" } },
        { key: "year", range: { gte: 2020 } },
      ],
    });
    await page.waitForSelector("#results .card");
    const cards = await page.$$eval("#results .card", (cs) =>
      cs.map((c) => ({
        id: (c as HTMLElement).dataset.imageId,
        name: c.querySelector(".id")?.textContent,
        metadata: c.querySelector("dl.metadata")?.textContent,
      })),
    );
    expect(cards.length).toBeGreaterThan(0);
    for (const c of cards) {
      expect(c.id).toBe(taggedId);
      expect(c.name).toBe(path.basename(tagged.png));
      expect(c.metadata).toBe("albumbeachyear2024");
    }

    // A filter nothing matches says so.
    await page.fill("#filter-album", "mountains");
    await page.press("#query", "Enter");
    await expect.poll(() => page.textContent("#status")).toMatch(/with these filters/);
    expect(pageErrors).toEqual([]);
  }, 200_000);
});
