/**
 * What every operation file gets: the app type, the injected services and limits, and the caller's
 * tenant scope (set by the tenant middleware in app.ts, the only place a tenant is resolved).
 */
import type { Context } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { ApiError, validationError } from "../errors.js";
import type { Limits } from "../limits.js";
import type { Services } from "../services.js";
import type { TenantScope } from "../tenant-scope.js";

export interface AppEnv {
  Variables: {
    requestId: string;
    scope: TenantScope;
  };
}

export type ApiApp = OpenAPIHono<AppEnv>;

export interface ApiContext {
  services: Services;
  limits: Limits;
}

/** The caller's tenant scope; routes under /v1 always have one. */
export function tenantScope(c: Context<AppEnv>): TenantScope {
  const scope = c.get("scope");
  if (!scope) throw new ApiError("internal_error", "tenant not resolved");
  return scope;
}

/** zod-openapi hook: a failed validation becomes the one 400 error body, naming the field. */
export function validationHook(result: {
  success: boolean;
  error?: unknown;
  target?: string;
}): void {
  if (!result.success)
    throw validationError(result.error as Parameters<typeof validationError>[0], result.target);
}
