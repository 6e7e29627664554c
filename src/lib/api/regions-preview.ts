/** GET /v1/regions/{id}/preview.png — the image with the region tinted and outlined. */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import { findRegion } from "./regions-get.js";
import { RegionIdParams, errorResponses } from "./schemas.js";

const route = createRoute({
  method: "get",
  path: "/v1/regions/{id}/preview.png",
  tags: ["regions"],
  summary: "The image with the region highlighted",
  request: { params: RegionIdParams },
  responses: {
    200: {
      description: "PNG preview",
      content: { "image/png": { schema: { type: "string", format: "binary" } } },
    },
    ...errorResponses(401, 404, 500, 503),
  },
});

export function registerRegionsPreview(app: ApiApp, ctx: ApiContext): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const scope = tenantScope(c);
    const region = await findRegion(scope, id);
    const blob = await scope.getBlob(region.payload.imageId);
    if (!blob || !region.payload.mask) throw ApiError.notFound(`Region ${id}`);
    const png = await ctx.services.renderer.previewPng(blob.bytes, region.payload.mask);
    return c.body(png as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "image/png",
      "cache-control": "private, no-cache",
    });
  });
}
