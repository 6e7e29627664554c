/** GET /healthz — liveness plus a cheap readiness check of the vector store (no tenant needed). */
import { createRoute, z } from "@hono/zod-openapi";
import type { ApiApp, ApiContext } from "./context.js";

const HealthSchema = z
  .object({ status: z.enum(["ok", "degraded"]), pack: z.string() })
  .openapi("Health", { example: { status: "ok", pack: "shapes-tiny@1.1.0" } });

const route = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["meta"],
  summary: "Health check",
  responses: {
    200: { description: "Serving", content: { "application/json": { schema: HealthSchema } } },
    503: {
      description: "A dependency is failing",
      content: { "application/json": { schema: HealthSchema } },
    },
  },
});

export function registerHealth(app: ApiApp, ctx: ApiContext): void {
  app.openapi(route, async (c) => {
    const pack = ctx.services.text.pack;
    try {
      // A count under a reserved tenant name touches the store without reading anyone's data.
      await ctx.services.vectors.count("_healthz");
      return c.json({ status: "ok" as const, pack }, 200);
    } catch {
      return c.json({ status: "degraded" as const, pack }, 503);
    }
  });
}
