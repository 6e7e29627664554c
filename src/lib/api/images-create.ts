/**
 * POST /v1/images — upload an image for indexing, or have it fetched: `application/json {url}`
 * (SSRF-safe, src/lib/url-fetch; the fetched bytes then take the same checks as an upload).
 *
 * Checks, cheapest first: byte limit (also for chunked bodies, via Hono's bodyLimit), allowlisted
 * format from magic bytes, pixel limits from the header, then (where the services have a decoder)
 * a full-decode check, so truncated or corrupt bytes get 422. Only then are the bytes stored, the record
 * written `queued` and a job enqueued: `202 {id, status}`. With `?wait=true` the answer waits for the
 * job: `201` with the record once indexed, the failure as an error, or `202` if the wait timed out.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import { ApiError } from "../errors.js";
import { acceptImage } from "../intake/index.js";
import type { ImageRecord } from "../services.js";
import { tenantScope, type ApiApp, type ApiContext } from "./context.js";
import {
  ImageIdSchema,
  ImageSchema,
  ImageStatusSchema,
  errorResponses,
  toImageJson,
} from "./schemas.js";
import { jsonLimit } from "./search.js";
import {
  parseUploadFields,
  recordFields,
  sameFields,
  writeImageFields,
  type ImageUserFields,
} from "./images-fields.js";
import { checkUpload, readUpload, sha256Hex } from "./upload.js";
import { isJsonRequest, readUrlRequest, registerUrlRequestSchema } from "./url-intake.js";
import { settledRecord } from "./wait.js";

const binary = { type: "string", format: "binary" } as const;

const AcceptedSchema = z
  .object({ id: z.string(), status: ImageStatusSchema })
  .openapi("ImageAccepted", { example: { id: "cat-01.png", status: "queued" } });

function route(ctx: ApiContext, urlRequest: ReturnType<typeof registerUrlRequestSchema>) {
  const uploadLimit = bodyLimit({
    maxSize: ctx.limits.maxUploadBytes,
    onError: () => {
      throw new ApiError("payload_too_large", `Upload exceeds ${ctx.limits.maxUploadBytes} bytes`);
    },
  });
  const urlLimit = jsonLimit(ctx);
  return createRoute({
    method: "post",
    path: "/v1/images",
    tags: ["images"],
    summary: "Upload an image, or the URL of one, to index",
    description:
      `PNG, JPEG or WebP, at most ${ctx.limits.maxUploadBytes} bytes, ${ctx.limits.maxSide} pixels per side and ${ctx.limits.maxPixels} pixels: ` +
      "the raw bytes, a multipart field `file`, or JSON `{url}` to have the server fetch it (public http(s) addresses only; " +
      "`url_not_allowed` 400 for a refused target, `url_fetch_failed` 422, `url_fetch_timeout` 504, 501 where fetching is off).",
    middleware: [
      (c: Context, next: () => Promise<void>) =>
        (isJsonRequest(c) ? urlLimit : uploadLimit)(c, next),
    ] as const,
    request: {
      query: z.object({
        id: ImageIdSchema.optional().openapi({
          description: "Image id; default: SHA-256 hex of the bytes",
        }),
        wait: z.enum(["true", "false"]).optional().openapi({
          description: "Answer only once the image is indexed (or failed)",
          example: "true",
        }),
      }),
      body: {
        required: true,
        content: {
          "image/png": { schema: binary },
          "image/jpeg": { schema: binary },
          "image/webp": { schema: binary },
          "application/json": urlRequest,
          "multipart/form-data": {
            schema: {
              type: "object",
              properties: {
                file: binary,
                name: { type: "string", description: "Display name; default: the file's name" },
                metadata: {
                  type: "string",
                  description: "Your metadata as a JSON object (docs/search.md#metadata)",
                  example: '{"sku":"A-1001","tags":["red"]}',
                },
              },
              required: ["file"],
            },
          },
        },
      },
    },
    responses: {
      201: {
        description: "Indexed (with `wait=true`)",
        content: { "application/json": { schema: ImageSchema } },
      },
      202: {
        description: "Accepted and queued",
        content: { "application/json": { schema: AcceptedSchema } },
      },
      ...errorResponses(400, 401, 413, 415, 422, 500, 501, 504),
    },
  });
}

export function registerImagesCreate(app: ApiApp, ctx: ApiContext): void {
  app.openapi(route(ctx, registerUrlRequestSchema(app)), async (c) => {
    const { id: queryId, wait } = c.req.valid("query");
    const input = isJsonRequest(c) ? await readUrlRequest(c, ctx) : await readFileUpload(c);
    const { bytes } = input;
    if (bytes.length === 0) throw ApiError.invalid("The body is empty");
    if (input.id && queryId && input.id !== queryId)
      throw ApiError.invalid("id: given both as ?id= and in the body, with different values");
    const requestedId = input.id ?? queryId;
    const image = acceptImage(bytes, ctx.limits);
    // The full-decode check and the hash are independent (both off the event loop): run together.
    const [ticket, sha256] = await Promise.all([
      checkUpload(ctx.services, image),
      sha256Hex(bytes),
    ]);
    const id = requestedId ?? sha256;
    const scope = tenantScope(c);

    let record = await scope.getImage(id);
    const fields = recordFields({ ...record, ...input.user });
    if (record && !needsIngest(record, sha256, ctx.services.text.pack)) {
      // The same bytes again: nothing to re-index, but new user fields are stored.
      if (!sameFields(fields, recordFields(record)))
        record = await writeImageFields(scope, record, fields);
    } else {
      const now = new Date().toISOString();
      // Blob first, record second, job last: a record never points at missing bytes, and a job
      // never runs for a record that is not there.
      await scope.putBlob(id, bytes, image.contentType);
      record = await scope.putImage({
        id,
        status: "queued",
        contentType: image.contentType,
        bytes: bytes.length,
        sha256,
        width: image.width,
        height: image.height,
        ...(fields.name === undefined ? {} : { name: fields.name }),
        metadata: fields.metadata,
        attempts: 0,
        createdAt: record?.createdAt ?? now,
        updatedAt: now,
      });
      // Filed before the enqueue: the job may run as soon as it is queued.
      ticket?.file({ tenant: scope.tenant, imageId: id });
      await scope.enqueue(id);
    }
    if (wait !== "true") return c.json({ id, status: record.status }, 202);
    const settled = await settledRecord(scope, id, ctx.limits.waitTimeoutMs);
    if (settled.status === "indexed") return c.json(toImageJson(settled), 201);
    return c.json({ id, status: settled.status }, 202);
  });
}

/** Raw or multipart bytes, with the multipart `name` / `metadata` fields checked before any image work. */
async function readFileUpload(
  c: Context,
): Promise<{ bytes: Uint8Array; user: ImageUserFields; id?: string }> {
  const { bytes, fields } = await readUpload(c);
  return { bytes, user: parseUploadFields(fields) };
}

/** Same bytes already queued, processing or indexed with the current pack: nothing to redo. */
function needsIngest(existing: ImageRecord, sha256: string, pack: string): boolean {
  if (existing.sha256 !== sha256 || existing.status === "failed") return true;
  return existing.status === "indexed" && existing.pack !== undefined && existing.pack !== pack;
}
