/**
 * The search page served by the gateway Worker (workerd, through Miniflare, on the bundle
 * `wrangler deploy --dry-run` builds): every file byte-identical to the repository's, with the same
 * headers as the Node server sends, and the page working in Debian's Chromium against the Worker —
 * API key, an upload through the file picker, a search whose card draws the result's mask.
 */
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGE_FILES, pageFileUrl } from "../../src/lib/api/page.js";
import { rleArea } from "../../src/lib/masks/rle.js";
import { readPageFiles } from "../../src/node/server/page-files.js";
import { makeHarness, pngBytes } from "../api/harness.js";
import { startStack, type Stack } from "./worker.js";

const CHROMIUM = "/usr/bin/chromium";
let stack: Stack;
let key: string;
let profileDir: string;
let context: BrowserContext | undefined;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  stack = await startStack({ maxUploadBytes: 1 << 20, rateLimit: 1000 });
  key = await stack.addKey("acme");
  profileDir = await mkdtemp(path.join(tmpdir(), "rs-chromium-edge-"));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await stack?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

const get = (url: string) =>
  stack.mf.dispatchFetch(`http://gateway${url}`) as unknown as Promise<Response>;

describe("search page on the gateway Worker", () => {
  it("serves every page file as it is in the repository, with the Node server's headers", async () => {
    const files = readPageFiles();
    const node = await makeHarness({ page: files });
    try {
      for (const file of PAGE_FILES) {
        const [res, ref] = [
          await get(pageFileUrl(file)),
          await node.app.request(pageFileUrl(file)),
        ];
        expect(res.status, file).toBe(200);
        for (const h of [
          "content-type",
          "content-security-policy",
          "x-content-type-options",
          "referrer-policy",
          "cache-control",
        ]) {
          expect(res.headers.get(h), `${file}: ${h}`).toBe(ref.headers.get(h));
        }
        expect(await res.text()).toBe(files[file]);
      }
    } finally {
      await node.close();
    }
  });

  it("works in Chromium: saves the key, uploads an image, searches, draws the result's mask", async () => {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
    });
    await page.goto(stack.gatewayUrl);
    await page.waitForSelector("body[data-ready=true]");
    await page.click(".settings summary"); // the API key form is folded away until needed
    await page.fill("#api-key", key);
    await page.click("#key-form button[type=submit]");

    const bytes = await pngBytes(48, 32, [10, 200, 10]);
    stack.extractor.setLabels(bytes, ["green leaf", "grey stone"]);
    await page.setInputFiles("#file-input", {
      name: "leaf.png",
      mimeType: "image/png",
      buffer: Buffer.from(bytes),
    });
    await page.waitForSelector("#uploads li[data-state=indexed]", { timeout: 60_000 });
    expect(await page.textContent("#uploads li")).toMatch(/indexed · 2 regions/);

    const searched = page.waitForResponse((r) => r.url().endsWith("/v1/search"));
    await page.fill("#query", "green leaf");
    await page.press("#query", "Enter");
    const { results } = (await (await searched).json()) as {
      results: { regionId: string; mask: { size: [number, number]; counts: string } }[];
    };
    const card = page.locator(`#results .card[data-region-id="${results[0]!.regionId}"]`);
    await expect.poll(() => card.locator("canvas").getAttribute("data-overlay")).toBe("drawn");
    expect(Number(await card.locator("canvas").getAttribute("data-mask-pixels"))).toBe(
      rleArea(results[0]!.mask),
    );
    await expect
      .poll(() =>
        card.locator("img").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
      )
      .toBe(48);
    expect(pageErrors).toEqual([]);
  });
});
