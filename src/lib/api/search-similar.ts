/**
 * POST /v1/search/similar — regions like a stored one, or like a region of an example image.
 * `{regionId, limit}`: its own stored vector is the query (no model call), and the region itself is
 * left out of the results. `{example, limit}` (or multipart): query by example, search-example.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { isPointId } from "../store/ids.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import { EXAMPLE_REGION_ID, errorResponses } from "./schemas.js";
import {
  exampleSchema,
  readSimilarBody,
  searchByExample,
  similarBodyLimit,
  similarRequestContent,
  SimilarResponseSchema,
} from "./search-example.js";
import { elapsedMs, limitSchema, pageFields, pageOf, regionFilter } from "./search-run.js";

function bodySchema(ctx: ApiContext) {
  return z
    .strictObject({
      regionId: z.string().min(1).max(64).optional().openapi({ example: EXAMPLE_REGION_ID }),
      example: exampleSchema(ctx.limits).optional(),
      limit: limitSchema(ctx.limits),
      ...pageFields(ctx.limits),
    })
    .refine((b) => (b.regionId === undefined) !== (b.example === undefined), {
      message: "give exactly one of regionId, example",
    })
    .openapi("SimilarRequest");
}

function route(app: ApiApp, ctx: ApiContext, body: ReturnType<typeof bodySchema>) {
  return createRoute({
    method: "post",
    path: "/v1/search/similar",
    tags: ["search"],
    summary: "Find regions similar to a stored region, or to a region of an example image",
    middleware: [similarBodyLimit(ctx.limits)] as const,
    request: { body: { required: true, content: similarRequestContent(app, body) } },
    responses: {
      200: {
        description: "Similar regions, best first (and the example's region as `query`)",
        content: { "application/json": { schema: SimilarResponseSchema } },
      },
      ...errorResponses(400, 401, 404, 413, 415, 422, 500, 501, 503, 504),
    },
  });
}

export function registerSearchSimilar(app: ApiApp, ctx: ApiContext): void {
  const schema = bodySchema(ctx);
  app.openapi(route(app, ctx, schema), async (c) => {
    const t0 = performance.now();
    const { body, bytes } = await readSimilarBody(c, ctx.limits, schema);
    const { regionId, example, limit, offset, filter } = body;
    const scope = tenantScope(c);
    const page = { offset, limit, maxOffset: ctx.limits.maxSearchOffset };
    // One extra hit: a stored region is the best match of its own vector, and is left out.
    const search = {
      limit: offset + limit + 1,
      filter: regionFilter(undefined, undefined, filter),
    };
    if (example)
      return c.json(
        await searchByExample(ctx, scope, { example, bytes }, { search, page }, t0),
        200,
      );
    const source = isPointId(regionId!) ? await scope.getPoint(regionId!, true) : null;
    if (!source || source.payload.kind !== "region") throw ApiError.notFound(`Region ${regionId}`);
    const hits = await scope.search(source.vector, search);
    const others = hits.filter((h) => h.id !== regionId);
    return c.json({ ...pageOf(others, page), tookMs: elapsedMs(t0) }, 200);
  });
}
