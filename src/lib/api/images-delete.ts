/**
 * DELETE /v1/images/{id} — remove an image: its points, its bytes, its record.
 * Points go first (search must stop returning the image at once), the record last, so a crash
 * half-way leaves a record the client can delete again.
 */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { tenantScope, type ApiApp } from "./context.js";
import { ImageIdParams, errorResponses } from "./schemas.js";

const route = createRoute({
  method: "delete",
  path: "/v1/images/{id}",
  tags: ["images"],
  summary: "Delete an image and all its regions",
  request: { params: ImageIdParams },
  responses: {
    204: { description: "Deleted" },
    ...errorResponses(400, 401, 404, 500, 503),
  },
});

export function registerImagesDelete(app: ApiApp): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const scope = tenantScope(c);
    if (!(await scope.getImage(id))) throw ApiError.notFound(`Image ${id}`);
    await scope.deleteImagePoints(id);
    await scope.deleteBlob(id);
    await scope.deleteImage(id);
    return c.body(null, 204);
  });
}
