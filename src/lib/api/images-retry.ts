/**
 * POST /v1/images/{id}/retry — replay a dead letter: an image whose ingest failed for good is queued
 * again from its stored bytes (attempts counted afresh), on whatever queue the deployment runs (the
 * in-process one, or the Worker's Queue). Replaying never duplicates points: their ids are
 * deterministic, and a failed ingest leaves none behind. 404 for unknown (and other tenants') ids,
 * 409 unless the image is `failed` or when its bytes are gone; `?wait=true` as for uploads.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import {
  ImageIdParams,
  ImageSchema,
  ImageStatusSchema,
  errorResponses,
  toImageJson,
} from "./schemas.js";
import { settledRecord } from "./wait.js";

const RequeuedSchema = z
  .object({ id: z.string(), status: ImageStatusSchema })
  .openapi("ImageRequeued", { example: { id: "cat-07.png", status: "queued" } });

const route = (ctx: ApiContext) =>
  createRoute({
    method: "post",
    path: "/v1/images/{id}/retry",
    tags: ["images"],
    summary: "Replay a failed (dead-lettered) image's ingest",
    request: {
      params: ImageIdParams,
      query: z.object({
        wait: z
          .enum(["true", "false"])
          .optional()
          .openapi({
            description: `Answer only once indexed (or failed again), at most ${ctx.limits.waitTimeoutMs} ms`,
            example: "true",
          }),
      }),
    },
    responses: {
      201: {
        description: "Indexed (with `wait=true`)",
        content: { "application/json": { schema: ImageSchema } },
      },
      202: {
        description: "Queued again",
        content: { "application/json": { schema: RequeuedSchema } },
      },
      ...errorResponses(400, 401, 404, 409, 500),
    },
  });

export function registerImagesRetry(app: ApiApp, ctx: ApiContext): void {
  app.openapi(route(ctx), async (c) => {
    const { id } = c.req.valid("param");
    const scope = tenantScope(c);
    const record = await scope.getImage(id);
    if (!record) throw ApiError.notFound(`Image ${id}`);
    if (record.status !== "failed")
      throw new ApiError(
        "conflict",
        `Image ${id} is ${record.status}; only failed images can be retried`,
      );
    if (!(await scope.getBlob(id)))
      throw new ApiError("conflict", `The stored bytes of image ${id} are gone; upload it again`);
    const { error: _e, errorCode: _c, tenant: _t, ...rest } = record;
    await scope.putImage({
      ...rest,
      status: "queued",
      attempts: 0,
      updatedAt: new Date().toISOString(),
    });
    await scope.enqueue(id);
    if (c.req.valid("query").wait !== "true") return c.json({ id, status: "queued" as const }, 202);
    const settled = await settledRecord(scope, id, ctx.limits.waitTimeoutMs);
    if (settled.status === "indexed") return c.json(toImageJson(settled), 201);
    return c.json({ id, status: settled.status }, 202);
  });
}
