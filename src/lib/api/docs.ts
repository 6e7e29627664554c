/** GET /openapi.json (generated from the route definitions) and GET /docs (Scalar API reference). */
import { Scalar } from "@scalar/hono-api-reference";
import type { ApiApp } from "./context.js";

export interface DocsInfo {
  title: string;
  version: string;
}

export function registerDocs(app: ApiApp, info: DocsInfo): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "Only when the server has API keys configured: `Authorization: Bearer <key>`.",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      description: "Search inside images by text: SAM regions embedded with Alpha-CLIP.",
    },
    security: [{ apiKey: [] }, {}],
  });
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: `${info.title} API` }));
}
