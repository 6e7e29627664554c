/**
 * POST /v1/search/similar {regionId, limit} — regions like a stored one: its own stored vector is
 * the query (no model call), and the region itself is left out of the results.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { isPointId } from "../store/ids.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import { EXAMPLE_REGION_ID, SearchResponseSchema, errorResponses } from "./schemas.js";
import { jsonLimit } from "./search.js";
import { elapsedMs, limitSchema, pageFields, pageOf, regionFilter } from "./search-run.js";

function route(ctx: ApiContext) {
  const body = z
    .strictObject({
      regionId: z.string().min(1).max(64).openapi({ example: EXAMPLE_REGION_ID }),
      limit: limitSchema(ctx.limits),
      ...pageFields(ctx.limits),
    })
    .openapi("SimilarRequest");
  return createRoute({
    method: "post",
    path: "/v1/search/similar",
    tags: ["search"],
    summary: "Find regions similar to a stored region",
    middleware: [jsonLimit(ctx)] as const,
    request: { body: { required: true, content: { "application/json": { schema: body } } } },
    responses: {
      200: {
        description: "Similar regions, best first",
        content: { "application/json": { schema: SearchResponseSchema } },
      },
      ...errorResponses(400, 401, 404, 413, 415, 500, 503),
    },
  });
}

export function registerSearchSimilar(app: ApiApp, ctx: ApiContext): void {
  app.openapi(route(ctx), async (c) => {
    const t0 = performance.now();
    const { regionId, limit, offset, filter } = c.req.valid("json");
    const scope = tenantScope(c);
    const source = isPointId(regionId) ? await scope.getPoint(regionId, true) : null;
    if (!source || source.payload.kind !== "region") throw ApiError.notFound(`Region ${regionId}`);
    // One extra hit, because the region itself is the best match of its own vector.
    const hits = await scope.search(source.vector, {
      limit: offset + limit + 1,
      filter: regionFilter(undefined, undefined, filter),
    });
    const others = hits.filter((h) => h.id !== regionId);
    const page = pageOf(others, { offset, limit, maxOffset: ctx.limits.maxSearchOffset });
    return c.json({ ...page, tookMs: elapsedMs(t0) }, 200);
  });
}
