/**
 * GET /v1/metadata/fields — the metadata keys the operator declared (`METADATA_INDEXES`) with their
 * types: what clients such as the search page offer as filters. Any key can be filtered on; these
 * are the ones indexed (on Qdrant) and meant for browsing.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { MetadataIndex } from "../store/qdrant/metadata.js";
import type { ApiApp } from "./context.js";
import { errorResponses } from "./schemas.js";

const FieldsSchema = z
  .object({
    fields: z.array(
      z.object({
        key: z.string(),
        type: z.enum(["keyword", "integer", "float", "bool", "datetime"]),
      }),
    ),
  })
  .openapi("MetadataFields", {
    example: {
      fields: [
        { key: "category", type: "keyword" },
        { key: "price", type: "float" },
      ],
    },
  });

const route = createRoute({
  method: "get",
  path: "/v1/metadata/fields",
  tags: ["images"],
  summary: "The declared metadata fields (METADATA_INDEXES), for filter inputs",
  responses: {
    200: {
      description: "Declared keys and types, in declaration order",
      content: { "application/json": { schema: FieldsSchema } },
    },
    ...errorResponses(401, 500),
  },
});

export function registerMetadataFields(app: ApiApp, fields: readonly MetadataIndex[]): void {
  app.openapi(route, (c) => c.json({ fields: fields.map((f) => ({ ...f })) }, 200));
}
