/**
 * The `URL_FETCH_*` variables, one definition for every entry that offers `POST /v1/images {url}`,
 * parsed by each entry's own zod schema. An entry that fetches itself (the local server, the query
 * function) reads them all; the Worker gateway, which delegates the fetch to the query function
 * because it cannot pin addresses, reads only the switch and the ports of its literal pre-check.
 */
import { z } from "zod";
import { DEFAULT_URL_FETCH, type UrlFetchLimits } from "../limits.js";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `"80,443,8443"` → `[80, 443, 8443]`. */
const ports = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)
      .map(Number),
  )
  .pipe(z.array(z.number().int().min(1).max(65535)).min(1, "name at least one port"));

/** The off switch (on by default everywhere) and the ports a URL may name. */
export function urlFetchSwitchFields() {
  return {
    URL_FETCH_ENABLED: z.stringbool().default(true),
    URL_FETCH_ALLOWED_PORTS: ports.default([...DEFAULT_URL_FETCH.allowedPorts]),
  };
}

/** Everything a fetching entry needs: the switch, the ports and the fetch's own limits. */
export function urlFetchEnvFields() {
  return {
    ...urlFetchSwitchFields(),
    URL_FETCH_TIMEOUT_MS: int(1, 600_000).default(DEFAULT_URL_FETCH.timeoutMs),
    URL_FETCH_CONNECT_TIMEOUT_MS: int(1, 600_000).default(DEFAULT_URL_FETCH.connectTimeoutMs),
    URL_FETCH_MAX_REDIRECTS: int(0, 10).default(DEFAULT_URL_FETCH.maxRedirects),
  };
}

type Parsed = z.infer<z.ZodObject<ReturnType<typeof urlFetchEnvFields>>>;

export interface UrlFetchSettings extends UrlFetchLimits {
  enabled: boolean;
}

export function urlFetchSettings(e: Parsed): UrlFetchSettings {
  return {
    enabled: e.URL_FETCH_ENABLED,
    timeoutMs: e.URL_FETCH_TIMEOUT_MS,
    connectTimeoutMs: e.URL_FETCH_CONNECT_TIMEOUT_MS,
    maxRedirects: e.URL_FETCH_MAX_REDIRECTS,
    allowedPorts: e.URL_FETCH_ALLOWED_PORTS,
  };
}
