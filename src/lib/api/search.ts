/**
 * GET /v1/search?q=&limit= and POST /v1/search {query, limit, imageIds?, minArea?, groupByImage?, minScore?}
 * — text → the pack's query vector (laid out for its views) → nearest regions of the caller's
 * library, with masks; `minScore` leaves out hits scoring below it.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors.js";
import type { MetadataFilter } from "../store/types.js";
import type { TenantScope } from "../tenant-scope.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import { SearchResponseSchema, errorResponses } from "./schemas.js";
import {
  elapsedMs,
  filterFields,
  limitSchema,
  offsetSchema,
  pageOf,
  querySchema,
  regionFilter,
} from "./search-run.js";

interface TextSearch {
  query: string;
  limit: number;
  offset: number;
  filter?: MetadataFilter;
  imageIds?: string[];
  minArea?: number;
  groupByImage?: boolean;
  minScore?: number;
}

const ok = {
  description: "Matching regions, best first",
  content: { "application/json": { schema: SearchResponseSchema } },
};

function getRoute(ctx: ApiContext) {
  return createRoute({
    method: "get",
    path: "/v1/search",
    tags: ["search"],
    summary: "Search regions by text",
    request: {
      query: z.object({
        q: querySchema(ctx.limits),
        limit: limitSchema(ctx.limits),
        offset: offsetSchema(ctx.limits),
      }),
    },
    responses: { 200: ok, ...errorResponses(400, 401, 500, 503) },
  });
}

function postRoute(ctx: ApiContext) {
  const body = z
    .strictObject({
      query: querySchema(ctx.limits),
      limit: limitSchema(ctx.limits),
      ...filterFields(ctx.limits),
    })
    .openapi("SearchRequest");
  return createRoute({
    method: "post",
    path: "/v1/search",
    tags: ["search"],
    summary: "Search regions by text, with filters",
    middleware: [jsonLimit(ctx)] as const,
    request: { body: { required: true, content: { "application/json": { schema: body } } } },
    responses: { 200: ok, ...errorResponses(400, 401, 413, 415, 500, 503) },
  });
}

export function jsonLimit(ctx: ApiContext) {
  return bodyLimit({
    maxSize: ctx.limits.maxJsonBytes,
    onError: () => {
      throw new ApiError("payload_too_large", `JSON body exceeds ${ctx.limits.maxJsonBytes} bytes`);
    },
  });
}

async function runTextSearch(ctx: ApiContext, scope: TenantScope, req: TextSearch) {
  const t0 = performance.now();
  const vector = await ctx.services.text.embedText(req.query);
  const hits = await scope.search(vector, {
    limit: req.offset + req.limit,
    filter: regionFilter(req.imageIds, req.minArea, req.filter),
    groupByImage: req.groupByImage ?? false,
  });
  const page = pageOf(hits, { ...req, maxOffset: ctx.limits.maxSearchOffset });
  return { ...page, tookMs: elapsedMs(t0) };
}

export function registerSearch(app: ApiApp, ctx: ApiContext): void {
  app.openapi(getRoute(ctx), async (c) => {
    const { q, limit, offset } = c.req.valid("query");
    return c.json(await runTextSearch(ctx, tenantScope(c), { query: q, limit, offset }), 200);
  });
  app.openapi(postRoute(ctx), async (c) => {
    return c.json(await runTextSearch(ctx, tenantScope(c), c.req.valid("json")), 200);
  });
}
