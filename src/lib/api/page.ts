/**
 * GET / — the search page (query box, result cards with mask overlays, similar regions, uploads),
 * and its two assets under /page/. Plain HTML, CSS and JS kept as string modules in ./page/, so the
 * page needs no build step and is served by every deployable that serves the app. Not part of the
 * OpenAPI document: it is a client of the API, not an operation.
 */
import type { Context } from "hono";
import type { ApiApp, AppEnv } from "./context.js";
import { CLIENT_JS } from "./page/client-js.js";
import { PAGE_HTML } from "./page/html.js";
import { MASK_JS } from "./page/mask-js.js";
import { PAGE_CSS } from "./page/style.js";
import { UI_JS } from "./page/ui-js.js";

/** One module script: the three parts share a scope (no bundler, no import maps). */
export const PAGE_JS = `"use strict";\n${MASK_JS}\n${CLIENT_JS}\n${UI_JS}`;

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

function serve(c: Context<AppEnv>, body: string, contentType: string): Response {
  return c.body(body, 200, {
    "content-type": `${contentType}; charset=utf-8`,
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    // Small and versioned with the server: revalidate so an upgrade shows at once.
    "cache-control": "no-cache",
  });
}

export function registerPage(app: ApiApp): void {
  app.get("/", (c) => serve(c, PAGE_HTML, "text/html"));
  app.get("/page/app.js", (c) => serve(c, PAGE_JS, "text/javascript"));
  app.get("/page/app.css", (c) => serve(c, PAGE_CSS, "text/css"));
}
