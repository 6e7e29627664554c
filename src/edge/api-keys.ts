/**
 * API keys of the gateway. A key looks like `rs_live_<32 base62>` (or `rs_test_…`): the prefix makes
 * leaked keys recognisable to secret scanners and to people. Only its SHA-256 is stored, in KV at
 * `apikey:<hex>` → `{"tenant": "…"}`; a stolen KV dump yields no usable key, and lookup by hash
 * needs no constant-time comparison (the timing of a hash lookup says nothing about the key).
 *
 * Rate limiting is per key (the hash is the limiter key), after the key is known to be valid, with
 * the Workers rate-limit binding: no Durable Object or KV write per request. Its counters are
 * per Cloudflare location and approximate, which is what an abuse limit needs (not billing).
 */
import type { KVNamespace, RateLimit } from "@cloudflare/workers-types";
import { sha256Hex, type TenantResolver } from "../lib/api/auth.js";
import { ApiError } from "../lib/errors.js";
import { isSafeId } from "../lib/safe-ids.js";

const API_KEY_PATTERN = /^rs_(live|test)_[A-Za-z0-9]{32}$/;

export const apiKeyKvKey = (hashHex: string): string => `apikey:${hashHex}`;

/** The stored form of a key: its SHA-256, lower-case hex. */
export const hashApiKey = (key: string): Promise<string> => sha256Hex(key);

export interface KeyResolverOptions {
  keys: KVNamespace;
  limiter: RateLimit;
  /** Announced in Retry-After: the limiter's period. */
  retryAfterSec: number;
}

/** Tenant of the presented key (null → 401), or a 429 once the key is over its rate. */
export function kvApiKeyResolver(options: KeyResolverOptions): TenantResolver {
  return async (request) => {
    const presented = presentedKey(request);
    if (!presented || !API_KEY_PATTERN.test(presented)) return null;
    const hash = await hashApiKey(presented);
    const entry = await options.keys.get<{ tenant?: unknown }>(apiKeyKvKey(hash), {
      type: "json",
      cacheTtl: 60,
    });
    const tenant = entry?.tenant;
    if (typeof tenant !== "string" || !isSafeId(tenant)) return null;
    const { success } = await options.limiter.limit({ key: hash });
    if (!success) {
      throw new ApiError("rate_limited", "Too many requests for this API key", {
        headers: { "retry-after": String(options.retryAfterSec) },
      });
    }
    return tenant;
  };
}

function presentedKey(request: Request): string | null {
  const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ?? request.headers.get("x-api-key");
}
