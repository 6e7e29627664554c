/**
 * Query by example, the second form of `POST /v1/search/similar` (search-similar.ts): an image —
 * stored (`imageId`), fetched (`url`, through the SSRF-safe `UrlFetcher`), or sent (`base64` in
 * JSON, or a multipart field `image`) — with a point or box prompt. The services' `ExampleEmbedder`
 * segments the region with the pack's interactive decoder and embeds it as ingestion embeds a
 * region; that vector is the query, and the region's own mask comes back as `query`.
 *
 * The body is validated here, not by a route validator, because the operation takes JSON and
 * multipart bodies alike (as `POST /v1/images` does, url-intake.ts).
 */
import { z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import { ApiError, validationError } from "../errors.js";
import { acceptImage } from "../intake/index.js";
import type { Limits } from "../limits.js";
import type { EmbeddedExample, RegionPrompt } from "../services.js";
import type { SearchOptions } from "../store/types.js";
import type { TenantScope } from "../tenant-scope.js";
import { MAX_URL_CHARS } from "../url-fetch/policy.js";
import type { ApiApp, ApiContext } from "./context.js";
import { ImageIdSchema, SearchResponseSchema, SearchResultSchema } from "./schemas.js";
import { elapsedMs, limitSchema, pageFields, pageOf } from "./search-run.js";

const binary = { type: "string", format: "binary" } as const;

/** Characters of base64 that encode at most `bytes` bytes. */
export const base64Chars = (bytes: number): number => Math.ceil(bytes / 3) * 4;

const coordinate = z.number().finite().min(0);
const PointSchema = z.tuple([coordinate, coordinate]).openapi({
  description: "A point on the thing, `[x, y]` in the example image's pixels (EXIF-oriented)",
  example: [32, 20],
});
const BoxSchema = z
  .tuple([coordinate, coordinate, z.number().finite().positive(), z.number().finite().positive()])
  .openapi({
    description: "A box around the thing, `[x, y, width, height]` in the example image's pixels",
    example: [20, 12, 24, 18],
  });

/** One issue per missing or doubled choice among `keys`, on the object being refined. */
function exactlyOne(keys: readonly string[], what: string) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const given = keys.filter((k) => value[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: "custom",
        message: `${what}: give exactly one of ${keys.join(", ")} (got ${given.length ? given.join(", ") : "none"})`,
      });
  };
}

/** The `example` of a JSON body. */
export function exampleSchema(limits: Pick<Limits, "maxUploadBytes">) {
  const maxChars = base64Chars(limits.maxUploadBytes);
  return z
    .strictObject({
      imageId: ImageIdSchema.optional().openapi({ description: "A stored image of the caller's" }),
      url: z.string().min(1).max(MAX_URL_CHARS).optional().openapi({
        description:
          "An image on a public http(s) address, fetched as `POST /v1/images {url}` does",
      }),
      base64: z
        .string()
        .min(1)
        .max(maxChars, `must be at most ${maxChars} characters (${limits.maxUploadBytes} bytes)`)
        .regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be standard base64 (no data: prefix)")
        .optional()
        .openapi({ description: "The image's bytes (PNG, JPEG or WebP), base64-encoded" }),
      point: PointSchema.optional(),
      box: BoxSchema.optional(),
    })
    .superRefine(exactlyOne(["imageId", "url", "base64"], "example"))
    .superRefine(exactlyOne(["point", "box"], "example"))
    .openapi("SimilarExample", { example: { imageId: "cat-01.png", point: [32, 20] } });
}

export type ExampleRequest = z.infer<ReturnType<typeof exampleSchema>>;

export const ExampleQuerySchema = z
  .object({
    imageId: z.string().optional().openapi({ description: "The example image, when stored" }),
    width: z.number().int(),
    height: z.number().int(),
    bbox: SearchResultSchema.shape.bbox,
    area: z.number(),
    predictedIou: z.number().openapi({ description: "The decoder's own quality estimate" }),
    mask: SearchResultSchema.shape.mask,
  })
  .openapi("ExampleQuery", {
    description: "The region segmented from the example and used as the query (COCO RLE mask)",
  });

export const SimilarResponseSchema = SearchResponseSchema.extend({
  query: ExampleQuerySchema.optional(),
}).openapi("SimilarResponse");

/**
 * The body cap of the operation: a base64 image (`maxUploadBytes` as base64) plus `maxJsonBytes`.
 * JSON bodies without an image keep the plain `maxJsonBytes` cap (`readSimilarBody`).
 */
export function similarBodyLimit(limits: Pick<Limits, "maxUploadBytes" | "maxJsonBytes">) {
  const maxSize = base64Chars(limits.maxUploadBytes) + limits.maxJsonBytes;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError("payload_too_large", `Body exceeds ${maxSize} bytes`);
    },
  });
}

/** The request-body entry of the operation: JSON (a component reference) or multipart. */
export function similarRequestContent(app: ApiApp, schema: z.ZodType) {
  app.openAPIRegistry.register("SimilarRequest", schema);
  return {
    "application/json": { schema: { $ref: "#/components/schemas/SimilarRequest" as const } },
    "multipart/form-data": {
      schema: {
        type: "object" as const,
        description:
          "Query by example with the image's bytes: `image` (file), `point` (`x,y`) or `box` (`x,y,w,h`), `limit`",
        properties: {
          image: binary,
          point: { type: "string" as const, example: "32,20" },
          box: { type: "string" as const, example: "20,12,24,18" },
          limit: { type: "string" as const, example: "10" },
        },
        required: ["image"] as string[],
      },
    },
  };
}

const isMultipart = (c: Context): boolean =>
  /^multipart\/form-data\s*(;|$)/i.test(c.req.header("content-type") ?? "");

/** `"x,y"` or `"[x, y]"` → numbers (left as given when not a list of numbers, so the schema names it). */
function numberList(field: FormDataEntryValue | null): unknown {
  if (field === null) return undefined;
  if (typeof field !== "string") return "(a file)";
  const parts = field.replace(/^\s*\[|\]\s*$/g, "").split(",");
  const numbers = parts.map((p) => (p.trim() === "" ? NaN : Number(p)));
  return numbers.every(Number.isFinite) ? numbers : field;
}

/** What the operation reads from either body form (multipart carries only these fields). */
export interface SimilarBody {
  regionId?: string | undefined;
  example?: ExampleRequest | undefined;
  limit: number;
}

/**
 * The validated body: JSON through `schema`, or multipart (`image`, `point`/`box`, `limit`) with the
 * file's bytes as `bytes`. A JSON body without an image past `maxJsonBytes` is refused (413), as on
 * every other JSON route.
 */
export async function readSimilarBody<T extends z.ZodType<SimilarBody>>(
  c: Context,
  limits: Limits,
  schema: T,
): Promise<{ body: z.infer<T>; bytes?: Uint8Array }> {
  if (isMultipart(c))
    return readMultipart(c, limits) as Promise<{ body: z.infer<T>; bytes: Uint8Array }>;
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? ""))
    throw new ApiError(
      "unsupported_media_type",
      "Content-Type must be application/json or multipart/form-data",
    );
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw ApiError.invalid("Malformed JSON body");
  }
  const carriesImage = typeof (body as { example?: { base64?: unknown } } | null)?.example?.base64;
  const tooBig = () => new TextEncoder().encode(text).byteLength > limits.maxJsonBytes;
  if (carriesImage !== "string" && tooBig())
    throw new ApiError("payload_too_large", `JSON body exceeds ${limits.maxJsonBytes} bytes`);
  return { body: parseBody(schema, body, "json") };
}

function multipartSchema(limits: Limits) {
  const prompt = z
    .strictObject({ point: PointSchema.optional(), box: BoxSchema.optional() })
    .superRefine(exactlyOne(["point", "box"], "example"));
  return z.strictObject({ example: prompt, limit: limitSchema(limits), ...pageFields(limits) });
}

const MULTIPART_FIELDS = ["image", "point", "box", "limit", "offset", "filter"];

/** The form's `limit` and `offset` as numbers and `filter` as JSON (400 when it is not JSON). */
function pageFormFields(form: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ["limit", "offset"]) {
    const v = form.get(key);
    if (typeof v === "string") out[key] = Number(v);
  }
  const filter = form.get("filter");
  if (typeof filter === "string") {
    try {
      out.filter = JSON.parse(filter);
    } catch {
      throw ApiError.invalid("Multipart field `filter` must be a JSON object");
    }
  }
  return out;
}

async function readMultipart(
  c: Context,
  limits: Limits,
): Promise<{ body: SimilarBody; bytes: Uint8Array }> {
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    throw ApiError.invalid("Malformed multipart/form-data body");
  }
  const file = form.get("image");
  if (file === null || typeof file === "string")
    throw ApiError.invalid("Multipart field `image` (a file) is required");
  const unknown = [...form.keys()].filter((k) => !MULTIPART_FIELDS.includes(k));
  if (unknown.length) throw ApiError.invalid(`Unknown multipart field: ${unknown.join(", ")}`);
  const fields = {
    example: { point: numberList(form.get("point")), box: numberList(form.get("box")) },
    ...pageFormFields(form),
  };
  const body = parseBody(multipartSchema(limits), fields, "form");
  return { body, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/** Parses `body` with `schema`, the failure as the one 400 naming the field. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown, target: string): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, target);
  return parsed.data;
}

/** The example's bytes: sent, stored (404 when not the caller's), or fetched (501 without a fetcher). */
async function exampleBytes(
  ctx: ApiContext,
  scope: TenantScope,
  example: ExampleRequest,
  sent?: Uint8Array,
): Promise<Uint8Array> {
  if (sent) return sent;
  if (example.imageId !== undefined) {
    const blob = await scope.getBlob(example.imageId);
    if (!blob) throw ApiError.notFound(`Image ${example.imageId}`);
    return blob.bytes;
  }
  if (example.url !== undefined) {
    if (!ctx.services.urlFetcher)
      throw new ApiError("not_implemented", "Fetching images by URL is not enabled on this server");
    return ctx.services.urlFetcher.fetchBytes(example.url, { maxBytes: ctx.limits.maxUploadBytes });
  }
  return decodeBase64(example.base64!);
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Errors the embedder raises about the prompt (possibly rebuilt from the model worker) as ApiErrors. */
function promptError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof ApiError || !(err instanceof Error)) return err;
  if (code === "invalid_request" || code === "no_region") return new ApiError(code, err.message);
  return err;
}

/** Runs a query by example: `search` is the operation's own (limit, filter), shared with `regionId`. */
export async function searchByExample(
  ctx: ApiContext,
  scope: TenantScope,
  request: { example: ExampleRequest; bytes?: Uint8Array },
  query: { search: SearchOptions; page: Parameters<typeof pageOf>[1] },
  t0: number,
): Promise<z.infer<typeof SimilarResponseSchema>> {
  const embedder = ctx.services.examples;
  if (!embedder)
    throw new ApiError(
      "not_implemented",
      "Query by example needs the model pack's segmenter, which this deployment does not run; search by regionId or text instead",
    );
  const { example } = request;
  const bytes = await exampleBytes(ctx, scope, example, request.bytes);
  if (bytes.length === 0) throw ApiError.invalid("example: the image is empty");
  acceptImage(bytes, ctx.limits);
  const prompt: RegionPrompt = example.point ? { point: example.point } : { box: example.box! };
  let region: EmbeddedExample;
  try {
    region = await embedder.embedExample(bytes, prompt);
  } catch (err) {
    throw promptError(err);
  }
  const hits = await scope.search(region.vector, query.search);
  const { width, height, bbox, area, predictedIou, mask } = region;
  const imageId = example.imageId !== undefined ? { imageId: example.imageId } : {};
  return {
    ...pageOf(hits, query.page),
    tookMs: elapsedMs(t0),
    query: { ...imageId, width, height, bbox, area, predictedIou, mask },
  };
}
