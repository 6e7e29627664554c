/** GET /v1/images/{id}/regions — every region of one image, in region order, with masks. */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { tenantScope, type ApiApp } from "./context.js";
import {
  ImageIdParams,
  ImageStatusSchema,
  REGION_EXAMPLE,
  RegionSchema,
  errorResponses,
  toRegionJson,
} from "./schemas.js";

const RegionListSchema = z
  .object({ imageId: z.string(), status: ImageStatusSchema, regions: z.array(RegionSchema) })
  .openapi("RegionList", {
    example: { imageId: "cat-01.png", status: "indexed", regions: [REGION_EXAMPLE] },
  });

const route = createRoute({
  method: "get",
  path: "/v1/images/{id}/regions",
  tags: ["images"],
  summary: "List an image's regions",
  description: "Empty until the image is indexed.",
  request: { params: ImageIdParams },
  responses: {
    200: {
      description: "The regions",
      content: { "application/json": { schema: RegionListSchema } },
    },
    ...errorResponses(400, 401, 404, 500, 503),
  },
});

export function registerImagesRegions(app: ApiApp): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const scope = tenantScope(c);
    const record = await scope.getImage(id);
    if (!record) throw ApiError.notFound(`Image ${id}`);
    const points = await scope.listImagePoints(id);
    const regions = points.flatMap((p) => toRegionJson(p) ?? []);
    return c.json({ imageId: id, status: record.status, regions }, 200);
  });
}
