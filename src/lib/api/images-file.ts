/** GET /v1/images/{id}/file — the stored original bytes, with their content type. */
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { tenantScope, type ApiApp } from "./context.js";
import { ImageIdParams, errorResponses } from "./schemas.js";

const binary = { schema: { type: "string", format: "binary" } } as const;

const route = createRoute({
  method: "get",
  path: "/v1/images/{id}/file",
  tags: ["images"],
  summary: "Download the original image",
  request: { params: ImageIdParams },
  responses: {
    200: {
      description: "The image bytes as uploaded",
      content: { "image/png": binary, "image/jpeg": binary, "image/webp": binary },
    },
    ...errorResponses(400, 401, 404, 500),
  },
});

export function registerImagesFile(app: ApiApp): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const scope = tenantScope(c);
    const blob = (await scope.getImage(id)) ? await scope.getBlob(id) : null;
    if (!blob) throw ApiError.notFound(`Image ${id}`);
    return c.body(blob.bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": blob.contentType,
      "content-length": String(blob.bytes.length),
      // The bytes under an id can be replaced by a new upload: revalidate, and never sniff.
      "cache-control": "private, no-cache",
      "x-content-type-options": "nosniff",
    });
  });
}
