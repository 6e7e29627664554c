/**
 * The Workers `UrlFetcher`, bound only when the gateway sets URL_FETCH_ENABLED=true. Every hop (the
 * first URL and each redirect, followed by hand) passes the shared literal checks — scheme, port,
 * credentials, `localhost`, IP literals in every spelling — and, for a name, a resolution check: all
 * its A/AAAA answers over DNS-over-HTTPS must be public. Workers' fetch cannot be pinned to the
 * checked address, so a name that changes its answer between the check and the fetch (DNS
 * rebinding) is NOT caught here; the Node fetcher pins. docs/gateway-intake.md says what that means.
 */
import type { UrlFetchLimits } from "../lib/limits.js";
import type { UrlFetcher } from "../lib/services.js";
import { createUrlFetcher, DEFAULT_URL_POLICY, literalAddress, privateResolutionError, type FetchHop } from "../lib/url-fetch/index.js";
import { resolveOverDoh } from "./doh-resolver.js";

type Resolve = (host: string, signal: AbortSignal) => Promise<string[]>;

export function createEdgeUrlFetcher(limits: Pick<UrlFetchLimits, "timeoutMs" | "maxRedirects" | "allowedPorts">, resolve: Resolve = resolveOverDoh): UrlFetcher {
  const policy = { ...DEFAULT_URL_POLICY, allowedPorts: limits.allowedPorts };
  const hop: FetchHop = async (url, init) => {
    if (literalAddress(url.hostname) === null) {
      const addresses = await resolve(url.hostname, init.signal);
      if (!addresses.every((ip) => policy.isAllowedAddress(ip))) throw privateResolutionError();
    }
    return fetch(url.href, { ...init, redirect: "manual" });
  };
  return createUrlFetcher(hop, { timeoutMs: limits.timeoutMs, maxRedirects: limits.maxRedirects, policy });
}
