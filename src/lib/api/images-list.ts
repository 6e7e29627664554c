/**
 * GET /v1/images?status=&limit= — the caller's image records, in id order. `status=failed` lists the
 * dead letters: images whose ingest failed for good (bad input at once; anything else after the
 * queue's last retry, or the Worker's dead-letter queue), each replayable with
 * `POST /v1/images/{id}/retry`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import {
  countParam,
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
  error: "ingest gave up after its last retry (dead-lettered)",
  errorCode: "ingest_failed",
  createdAt: "2026-01-05T10:00:00.000Z",
  updatedAt: "2026-01-05T10:04:12.000Z",
} as const;

const ImageListSchema = z
  .object({ images: z.array(ImageSchema) })
  .openapi("ImageList", { example: { images: [FAILED_EXAMPLE] } });

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
        limit: countParam(ctx.limits.maxListLimit, 100, "Records"),
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
    const { status, limit } = c.req.valid("query");
    const records = await tenantScope(c).listImages({ limit, ...(status ? { status } : {}) });
    return c.json({ images: records.map(toImageJson) }, 200);
  });
}
