/** GET /v1/images/{id} — the image record: status, size, region count, last error. */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { tenantScope, type ApiApp } from "./context.js";
import { ImageIdParams, ImageSchema, errorResponses, toImageJson } from "./schemas.js";

const route = createRoute({
  method: "get",
  path: "/v1/images/{id}",
  tags: ["images"],
  summary: "Get an image's status and facts",
  request: { params: ImageIdParams },
  responses: {
    200: {
      description: "The image record",
      content: { "application/json": { schema: ImageSchema } },
    },
    ...errorResponses(400, 401, 404, 500),
  },
});

export function registerImagesGet(app: ApiApp): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const record = await tenantScope(c).getImage(id);
    if (!record) throw ApiError.notFound(`Image ${id}`);
    return c.json(toImageJson(record), 200);
  });
}
