/**
 * Who is calling: API key → tenant. With no keys configured the server is single-tenant and every
 * request runs as tenant `default` (the tenant is still carried through every store call).
 */
import { ApiError } from "../errors.js";
import { assertSafeId } from "../store/ids.js";

export const DEFAULT_TENANT = "default";

/** Tenant of a request, or null to refuse it with 401. */
export type TenantResolver = (request: Request) => string | null | Promise<string | null>;

/** `Authorization: Bearer <key>` or `x-api-key: <key>`, looked up in `keys` (key → tenant). */
export function apiKeyTenantResolver(keys: Readonly<Record<string, string>>): TenantResolver {
  const entries = Object.entries(keys);
  for (const [, tenant] of entries) assertSafeId(tenant, "tenant");
  if (entries.length === 0) return () => DEFAULT_TENANT;
  return (request) => {
    const presented = presentedKey(request);
    if (!presented) return null;
    // Compare against every key in constant time so timing does not reveal a matching prefix.
    let found: string | null = null;
    for (const [key, tenant] of entries) if (constantTimeEqual(key, presented)) found = tenant;
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

export async function resolveTenantOrThrow(resolver: TenantResolver, request: Request): Promise<string> {
  const tenant = await resolver(request);
  if (!tenant) {
    throw new ApiError("unauthorized", "A valid API key is required", { headers: { "www-authenticate": "Bearer" } });
  }
  return tenant;
}
