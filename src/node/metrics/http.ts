/**
 * HTTP side of the metrics: a middleware timing every request by route pattern, method and status,
 * and `GET /metrics` (Prometheus text format) behind a bearer token. Without a token the route is
 * not registered at all (404, the one error body): metrics are opt-in, never public by accident.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Env, Hono, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { ApiError } from "../../lib/errors.js";
import type { Metrics } from "./registry.js";

export const METRICS_PATH = "/metrics";

/** Times each request; `route` is the pattern that answered (`unmatched` for 404s of no route). */
export function requestTimer(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const end = metrics.requestSeconds.startTimer();
    try {
      await next();
    } finally {
      end({ route: answeringRoute(c), method: c.req.method, status: String(c.res.status) });
    }
  };
}

/**
 * The pattern of the route the request matched, whether or not its handler ran (auth or a rate
 * limit may answer first); middleware (method ALL) is not a route. None: `unmatched`.
 */
function answeringRoute(c: Parameters<MiddlewareHandler>[0]): string {
  const routes = matchedRoutes(c).filter((r) => r.method !== "ALL");
  return routes.at(-1)?.path ?? "unmatched";
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/** True when `header` is `Bearer <token>` (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? "")?.[1];
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/**
 * Adds the request timer and, when `token` is set, `GET /metrics` to `app`. Call it right after
 * the app shell (so failures still get the one error body) and before any route or auth middleware.
 */
export function instrumentApp<E extends Env>(
  app: Hono<E>,
  metrics: Metrics,
  token: string | undefined,
): void {
  app.use("*", requestTimer(metrics));
  if (!token) return;
  app.get(METRICS_PATH, async (c) => {
    if (!bearerMatches(c.req.header("authorization"), token))
      throw new ApiError(
        "unauthorized",
        "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>",
        {
          headers: { "www-authenticate": 'Bearer realm="metrics"' },
        },
      );
    const { body, contentType } = await metrics.expose();
    return c.body(body, 200, { "content-type": contentType, "cache-control": "no-store" });
  });
}
