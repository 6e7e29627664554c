/** GET /v1/regions/{id}/mask.png — the region's mask as a 1-channel PNG (255 inside, 0 outside). */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import { findRegion } from "./regions-get.js";
import { RegionIdParams, errorResponses } from "./schemas.js";

const route = createRoute({
  method: "get",
  path: "/v1/regions/{id}/mask.png",
  tags: ["regions"],
  summary: "The region's mask as PNG",
  request: { params: RegionIdParams },
  responses: {
    200: {
      description: "Grayscale PNG at the image's size",
      content: { "image/png": { schema: { type: "string", format: "binary" } } },
    },
    ...errorResponses(401, 404, 500, 503),
  },
});

export function registerRegionsMask(app: ApiApp, ctx: ApiContext): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const region = await findRegion(tenantScope(c), id);
    if (!region.payload.mask) throw ApiError.notFound(`Region ${id}`);
    const png = await ctx.services.renderer.maskPng(region.payload.mask);
    return c.body(png as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "image/png",
      "cache-control": "private, no-cache",
    });
  });
}
