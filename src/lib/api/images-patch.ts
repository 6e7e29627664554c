/**
 * PATCH /v1/images/{id} {name?, metadata?} — change an image's name and metadata without
 * re-embedding it: `metadata` is a JSON merge patch (a key set to null is removed), `name: null`
 * removes the name. The record is written first, then every point of the image (Qdrant
 * `set_payload`, LanceDB `update`), so filters and results see the change at once.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, validationError } from "../errors.js";
import {
  MetadataPatchSchema,
  MetadataSchema,
  NameSchema,
  mergeMetadata,
} from "../metadata/index.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import { recordFields, writeImageFields } from "./images-fields.js";
import { ImageIdParams, ImageSchema, errorResponses, toImageJson } from "./schemas.js";
import { jsonLimit } from "./search.js";

const PatchSchema = z
  .strictObject({
    name: NameSchema.nullable().optional().openapi({ description: "New name; null removes it" }),
    metadata: MetadataPatchSchema.optional(),
  })
  .openapi("ImagePatch", {
    example: { name: "red-dress.jpg", metadata: { price: 17.9, onSale: true, tags: null } },
  });

function route(ctx: ApiContext) {
  return createRoute({
    method: "patch",
    path: "/v1/images/{id}",
    tags: ["images"],
    summary: "Change an image's name and metadata (no re-indexing)",
    middleware: [jsonLimit(ctx)] as const,
    request: {
      params: ImageIdParams,
      body: { required: true, content: { "application/json": { schema: PatchSchema } } },
    },
    responses: {
      200: {
        description: "The updated record",
        content: { "application/json": { schema: ImageSchema } },
      },
      ...errorResponses(400, 401, 404, 413, 415, 500, 503),
    },
  });
}

export function registerImagesPatch(app: ApiApp, ctx: ApiContext): void {
  app.openapi(route(ctx), async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const scope = tenantScope(c);
    const record = await scope.getImage(id);
    if (!record) throw ApiError.notFound(`Image ${id}`);
    const current = recordFields(record);
    const merged = MetadataSchema.safeParse(mergeMetadata(current.metadata, patch.metadata ?? {}));
    if (!merged.success) throw validationError(merged.error, "metadata");
    const name = patch.name === undefined ? current.name : (patch.name ?? undefined);
    const fields = { ...(name === undefined ? {} : { name }), metadata: merged.data };
    return c.json(toImageJson(await writeImageFields(scope, record, fields)), 200);
  });
}
