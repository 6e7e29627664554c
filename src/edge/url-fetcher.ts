/**
 * The Workers `UrlFetcher`, bound only when the gateway sets URL_FETCH_ENABLED=true. Workers' fetch
 * cannot resolve a name for us or pin the address it connects to, so only the literal checks apply:
 * scheme, port, credentials, `localhost`, and IP literals in every spelling (refused unless public),
 * on the first URL and on every redirect. A public name that resolves to a private address is NOT
 * caught here (docs/url-fetch-and-faults.md says so); the Node fetcher catches it.
 */
import type { UrlFetchLimits } from "../lib/limits.js";
import type { UrlFetcher } from "../lib/services.js";
import { createUrlFetcher, DEFAULT_URL_POLICY } from "../lib/url-fetch/index.js";

export function createEdgeUrlFetcher(limits: Pick<UrlFetchLimits, "timeoutMs" | "maxRedirects" | "allowedPorts">): UrlFetcher {
  return createUrlFetcher((url, init) => fetch(url.href, { ...init, redirect: "manual" }), {
    timeoutMs: limits.timeoutMs,
    maxRedirects: limits.maxRedirects,
    policy: { ...DEFAULT_URL_POLICY, allowedPorts: limits.allowedPorts },
  });
}
