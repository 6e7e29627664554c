/** GET /v1/regions/{id} — one region: box, area, scores and mask. */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { isPointId } from "../store/ids.js";
import type { TenantScope } from "../tenant-scope.js";
import type { StoredPoint } from "../store/types.js";
import { tenantScope, type ApiApp } from "./context.js";
import { RegionIdParams, RegionSchema, errorResponses, toRegionJson } from "./schemas.js";

const route = createRoute({
  method: "get",
  path: "/v1/regions/{id}",
  tags: ["regions"],
  summary: "Get one region",
  request: { params: RegionIdParams },
  responses: {
    200: { description: "The region", content: { "application/json": { schema: RegionSchema } } },
    ...errorResponses(401, 404, 500, 503),
  },
});

/** The caller's region point with this id (a region, with a mask), else 404. */
export async function findRegion(
  scope: TenantScope,
  id: string,
): Promise<StoredPoint & { payload: { mask: object } }> {
  const point = isPointId(id) ? await scope.getPoint(id) : null;
  if (!point || point.payload.kind !== "region" || !point.payload.mask)
    throw ApiError.notFound(`Region ${id}`);
  return point as StoredPoint & { payload: { mask: object } };
}

export function registerRegionsGet(app: ApiApp): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const region = toRegionJson(await findRegion(tenantScope(c), id));
    if (!region) throw ApiError.notFound(`Region ${id}`);
    return c.json(region, 200);
  });
}
