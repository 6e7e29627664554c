/**
 * GET / — the search page (query box, result cards with mask overlays, similar regions, uploads) —
 * and its static files under /page/. They are plain HTML, CSS and JavaScript modules in ./page/
 * (typechecked through `// @ts-check` and JSDoc, linted), served as they are: no build step.
 * Under /page/ the URL tree mirrors src/lib, so a module's relative import resolves in the browser
 * as it does in the repository: page/overlay.js imports ../../masks/rle-decode.js, the RLE decoder
 * the server uses too. Not part of the OpenAPI document: the page is a client of the API.
 *
 * src/lib reads no files (it runs on Workers too), so each runtime hands createApp the files' text
 * (`AppOptions.page`): the Node server reads them from disk (src/node/server/page-files.ts), the
 * Worker has them bundled as text (src/edge/page-files.ts).
 */
import type { Context } from "hono";
import type { ApiApp, AppEnv } from "./context.js";

/** Every file the page loads, as paths under src/lib; index.html is served at `/`, the rest at `/page/<path>`. */
export const PAGE_FILES = [
  "api/page/index.html",
  "api/page/app.css",
  "api/page/app.js",
  "api/page/client.js",
  "api/page/dom.js",
  "api/page/filters.js",
  "api/page/example.js",
  "api/page/overlay.js",
  "api/page/results.js",
  "api/page/uploads.js",
  "masks/rle-decode.js",
] as const;

export type PageFile = (typeof PAGE_FILES)[number];
/** The text of each page file. */
export type PageFiles = Readonly<Record<PageFile, string>>;

const INDEX: PageFile = "api/page/index.html";
const CONTENT_TYPES: Record<string, string> = {
  html: "text/html",
  css: "text/css",
  js: "text/javascript",
};

// Everything the page loads is same-origin; images come in as blob: URLs (fetched with the API key).
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The URL path a page file is served at. */
export function pageFileUrl(file: PageFile): string {
  return file === INDEX ? "/" : `/page/${file}`;
}

function contentType(file: PageFile): string {
  const type = CONTENT_TYPES[file.slice(file.lastIndexOf(".") + 1)];
  if (!type) throw new Error(`no content type for page file ${file}`);
  return type;
}

function serve(c: Context<AppEnv>, body: string, type: string): Response {
  return c.body(body, 200, {
    "content-type": `${type}; charset=utf-8`,
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    // Small and versioned with the server: revalidate so an upgrade shows at once.
    "cache-control": "no-cache",
  });
}

export function registerPage(app: ApiApp, files: PageFiles): void {
  for (const file of PAGE_FILES) {
    const type = contentType(file);
    app.get(pageFileUrl(file), (c) => serve(c, files[file], type));
  }
}
