/**
 * Who is calling: API key → tenant. With no keys configured the server is single-tenant and every
 * request runs as tenant `default` (the tenant is still carried through every store call).
 */
import { ApiError } from "../errors.js";
import { assertSafeId } from "../safe-ids.js";

const DEFAULT_TENANT = "default";

/** Tenant of a request, or null to refuse it with 401. */
export type TenantResolver = (request: Request) => string | null | Promise<string | null>;

/** A configured key given as its SHA-256 instead of itself: `sha256:<64 hex digits>`. */
const HASHED_KEY_PREFIX = "sha256:";
const HASHED_KEY = /^sha256:[0-9a-f]{64}$/;

export const isHashedKey = (key: string): boolean => HASHED_KEY.test(key);

/** SHA-256 of the key's UTF-8 bytes, lower-case hex (what `printf %s KEY | sha256sum` prints). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `Authorization: Bearer <key>` or `x-api-key: <key>`, looked up in `keys` (configured key →
 * tenant). A configured key is the key itself or `sha256:<hex>` of it, so the configuration need
 * hold no usable key; the presented key is hashed only when some configured key is a hash.
 */
export function apiKeyTenantResolver(keys: Readonly<Record<string, string>>): TenantResolver {
  const entries = Object.entries(keys);
  for (const [, tenant] of entries) assertSafeId(tenant, "tenant");
  if (entries.length === 0) return () => DEFAULT_TENANT;
  const plain = entries.filter(([key]) => !key.startsWith(HASHED_KEY_PREFIX));
  const hashed = entries.filter(([key]) => key.startsWith(HASHED_KEY_PREFIX));
  for (const [key] of hashed)
    if (!isHashedKey(key))
      throw new Error(`API key ${key.slice(0, 12)}… is not sha256:<64 lower-case hex digits>`);
  return async (request) => {
    const presented = presentedKey(request);
    if (!presented) return null;
    // Compare against every key in constant time so timing does not reveal a matching prefix.
    let found: string | null = null;
    for (const [key, tenant] of plain) if (constantTimeEqual(key, presented)) found = tenant;
    if (hashed.length > 0) {
      const digest = HASHED_KEY_PREFIX + (await sha256Hex(presented));
      for (const [key, tenant] of hashed) if (constantTimeEqual(key, digest)) found = tenant;
    }
    return found;
  };
}

function presentedKey(request: Request): string | null {
  const auth = request.headers.get("authorization");
  const bearer = auth?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ?? request.headers.get("x-api-key");
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export async function resolveTenantOrThrow(
  resolver: TenantResolver,
  request: Request,
): Promise<string> {
  const tenant = await resolver(request);
  if (!tenant) {
    throw new ApiError("unauthorized", "A valid API key is required", {
      headers: { "www-authenticate": "Bearer" },
    });
  }
  return tenant;
}
