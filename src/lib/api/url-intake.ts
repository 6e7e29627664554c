/**
 * `POST /v1/images` with `application/json` `{url, id?}`: the image is fetched by the injected
 * `UrlFetcher` (SSRF-safe; src/lib/url-fetch) and then goes through exactly the checks of an upload.
 * The body schema is registered as an OpenAPI component but validated here, not by a route
 * validator, because the same operation also takes raw image and multipart bodies.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError, validationError } from "../errors.js";
import { MAX_URL_CHARS } from "../url-fetch/policy.js";
import type { ApiApp, ApiContext } from "./context.js";
import { MetadataSchema, NameSchema } from "../metadata/index.js";
import type { ImageUserFields } from "./images-fields.js";
import { ImageIdSchema } from "./schemas.js";

const ImageUrlRequestSchema = z
  .strictObject({
    url: z.string().min(1).max(MAX_URL_CHARS).openapi({
      description:
        "http(s) URL of a PNG, JPEG or WebP image on a public address; redirects are followed (each re-checked)",
      example: "https://images.example.com/cat-01.png",
    }),
    id: ImageIdSchema.optional().openapi({
      description: "Image id (instead of `?id=`); default: SHA-256 hex of the fetched bytes",
    }),
    name: NameSchema.optional(),
    metadata: MetadataSchema.optional(),
  })
  .openapi("ImageUrlRequest", {
    example: { url: "https://images.example.com/cat-01.png", id: "cat-01.png" },
  });

/** The request-body entry of the operation (a reference, so no automatic validator is attached). */
export function registerUrlRequestSchema(app: ApiApp) {
  app.openAPIRegistry.register("ImageUrlRequest", ImageUrlRequestSchema);
  return { schema: { $ref: "#/components/schemas/ImageUrlRequest" } } as const;
}

export function isJsonRequest(c: Context): boolean {
  return /^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "");
}

/** The fetched bytes and the id the body named, if any. */
export async function readUrlRequest(
  c: Context,
  ctx: ApiContext,
): Promise<{ bytes: Uint8Array; id?: string; user: ImageUserFields }> {
  const fetcher = ctx.services.urlFetcher;
  if (!fetcher)
    throw new ApiError(
      "not_implemented",
      "Fetching images by URL is not enabled on this server; upload the image bytes instead",
    );
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw ApiError.invalid("Malformed JSON body");
  }
  const parsed = ImageUrlRequestSchema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, "json");
  const bytes = await fetcher.fetchBytes(parsed.data.url, { maxBytes: ctx.limits.maxUploadBytes });
  if (bytes.length === 0)
    throw new ApiError("url_fetch_failed", "The image URL answered with an empty body");
  const { name, metadata } = parsed.data;
  const user = { ...(name === undefined ? {} : { name }), ...(metadata ? { metadata } : {}) };
  return { bytes, ...(parsed.data.id ? { id: parsed.data.id } : {}), user };
}
