/**
 * GET /v1/images?status=&filter=&limit=&cursor= — the caller's image records, in id order, a page at
 * a time: `nextCursor` (the last id of the page) asks for the next one. `filter` is a metadata filter
 * (JSON text, the syntax of search's `filter`), evaluated on the records. `status=failed` lists the
 * dead letters: images whose ingest failed for good (bad input at once; anything else after the
 * queue's last retry, or the Worker's dead-letter queue), each replayable with
 * `POST /v1/images/{id}/retry`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { MetadataFilterSchema, matchesMetadata } from "../metadata/index.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import {
  countParam,
  ImageIdSchema,
  ImageSchema,
  ImageStatusSchema,
  errorResponses,
  toImageJson,
} from "./schemas.js";

const FAILED_EXAMPLE = {
  id: "cat-07.png",
  status: "failed",
  contentType: "image/png",
  bytes: 20481,
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  width: 64,
  height: 48,
  regionCount: null,
  pack: null,
  name: "cat-07.png",
  metadata: {},
  error: "ingest gave up after its last retry (dead-lettered)",
  errorCode: "ingest_failed",
  createdAt: "2026-01-05T10:00:00.000Z",
  updatedAt: "2026-01-05T10:04:12.000Z",
} as const;

const ImageListSchema = z
  .object({
    images: z.array(ImageSchema),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "`cursor` of the next page; null on the last page" }),
  })
  .openapi("ImageList", { example: { images: [FAILED_EXAMPLE], nextCursor: null } });

/** The `filter` query parameter: JSON text, then the metadata filter schema. */
const FilterParam = z
  .string()
  .max(16 * 1024)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON filter object" });
      return z.NEVER;
    }
  })
  .pipe(MetadataFilterSchema)
  .optional()
  .openapi({
    type: "string",
    description: "A metadata filter as JSON text (the syntax of search's `filter`)",
    example: '{"must":[{"key":"album","match":{"value":"pets"}}]}',
  });

function route(ctx: ApiContext) {
  return createRoute({
    method: "get",
    path: "/v1/images",
    tags: ["images"],
    summary: "List images, e.g. the dead letters (status=failed)",
    request: {
      query: z.object({
        status: ImageStatusSchema.optional().openapi({
          description: "Only images in this state; `failed` = the dead letters",
          example: "failed",
        }),
        filter: FilterParam,
        limit: countParam(ctx.limits.maxListLimit, 100, "Records"),
        cursor: ImageIdSchema.optional().openapi({
          description: "`nextCursor` of the previous page",
        }),
      }),
    },
    responses: {
      200: {
        description: "Image records in id order",
        content: { "application/json": { schema: ImageListSchema } },
      },
      ...errorResponses(400, 401, 500),
    },
  });
}

export function registerImagesList(app: ApiApp, ctx: ApiContext): void {
  app.openapi(route(ctx), async (c) => {
    const { status, limit, filter, cursor } = c.req.valid("query");
    // One record more than the page, to know whether a next page exists.
    const records = await tenantScope(c).listImages({
      limit: limit + 1,
      ...(status ? { status } : {}),
      ...(cursor ? { after: cursor } : {}),
      ...(filter ? { where: (r) => matchesMetadata(r.metadata, filter) } : {}),
    });
    const page = records.slice(0, limit);
    const nextCursor = records.length > limit ? page[page.length - 1]!.id : null;
    return c.json({ images: page.map(toImageJson), nextCursor }, 200);
  });
}
