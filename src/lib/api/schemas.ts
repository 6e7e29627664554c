/**
 * Response and shared parameter schemas of the public API (zod v4 + OpenAPI metadata). The error
 * schema is the one body of every error response; `errorResponses` documents it per route.
 */
import { z } from "@hono/zod-openapi";
import { ERROR_STATUS } from "../errors.js";
import { SAFE_ID_PATTERN } from "../safe-ids.js";
import type { ImageRecord } from "../services.js";
import { MetadataSchema } from "../metadata/index.js";
import type { StoredPoint } from "../store/types.js";

// Examples shown by /docs (one small image, one elliptical region of it), consistent across schemas.
const EXAMPLE_MASK = {
  size: [48, 64] as [number, number],
  counts: "en01\\16L2N2N2N2O0O2O0000000O11O000000001N101N2N2N2N_m0",
};
export const EXAMPLE_REGION_ID = "1b4e28ba-2fa1-5d3b-9c5e-1f0a2b3c4d5e";
const EXAMPLE_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
export const REGION_EXAMPLE = {
  regionId: EXAMPLE_REGION_ID,
  imageId: "cat-01.png",
  regionIndex: 3,
  bbox: [20, 12, 24, 18] as [number, number, number, number],
  area: 329,
  predictedIou: 0.94,
  stability: 0.97,
  mask: EXAMPLE_MASK,
  imageWidth: 64,
  imageHeight: 48,
  pack: "shapes-tiny@1.1.0",
};

const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(
        Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]],
      ),
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .openapi("Error", {
    example: {
      error: {
        code: "not_found",
        message: "Image cat-01.png not found",
        requestId: "7c0e1c1e-5d0a-4d8e-9d55-0b7a4f7f3b21",
      },
    },
  });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request (the message names the failing field), or a URL the fetch policy refuses (`url_not_allowed`)",
  401: "Missing or unknown API key",
  404: "Not found (ids of other tenants are not found either)",
  409: "The resource is not in a state that allows this (e.g. retrying an image that has not failed)",
  413: "Body over the byte limit, or image over the pixel/side limit",
  415: "Not a PNG, JPEG or WebP image",
  422: "The image could not be decoded, or its URL could not be fetched (`url_fetch_failed`), or an example prompt segments nothing (`no_region`)",
  500: "Internal error",
  501: "Not enabled on this deployment",
  503: "The vector store is unavailable (timed out, unreachable or failing); retry later",
  504: "The image URL did not answer in time",
};

/** OpenAPI `responses` entries for the given error statuses, all with the shared error schema. */
export function errorResponses<const S extends readonly number[]>(...statuses: S) {
  const entries = statuses.map((s) => [
    s,
    {
      description: ERROR_DESCRIPTIONS[s] ?? "Error",
      content: { "application/json": { schema: ErrorSchema } },
    },
  ]);
  return Object.fromEntries(entries) as {
    [K in S[number]]: {
      description: string;
      content: { "application/json": { schema: typeof ErrorSchema } };
    };
  };
}

export const ImageIdSchema = z
  .string()
  .regex(SAFE_ID_PATTERN, "must be 1–128 characters of [A-Za-z0-9._-], not only dots")
  .openapi({ example: "cat-01.png" });

export const ImageIdParams = z.object({
  id: ImageIdSchema.openapi({ param: { name: "id", in: "path" } }),
});

/** Region ids are UUIDs, but any string is accepted here: an id that is no UUID is simply not found. */
export const RegionIdParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({
      param: { name: "id", in: "path" },
      example: "1b4e28ba-2fa1-5d3b-9c5e-1f0a2b3c4d5e",
    }),
});

const BboxSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]).openapi({
  description: "[x, y, width, height] in original image pixels",
  example: [20, 12, 24, 18],
});

const MaskSchema = z
  .object({
    size: z.tuple([z.number().int(), z.number().int()]).openapi({ description: "[height, width]" }),
    counts: z
      .string()
      .openapi({ description: "COCO compressed RLE (column-major, pycocotools-compatible)" }),
  })
  .openapi("Mask", { example: EXAMPLE_MASK });

export const ImageStatusSchema = z.enum(["queued", "processing", "indexed", "failed"]);

export const ImageSchema = z
  .object({
    id: z.string(),
    status: ImageStatusSchema,
    contentType: z.string(),
    bytes: z.number().int(),
    sha256: z.string(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    regionCount: z.number().int().nullable(),
    pack: z.string().nullable(),
    name: z.string().nullable().openapi({ description: "Display name; the file name by default" }),
    metadata: MetadataSchema,
    error: z.string().optional(),
    errorCode: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Image", {
    example: {
      id: "cat-01.png",
      status: "indexed",
      contentType: "image/png",
      bytes: 20481,
      sha256: EXAMPLE_SHA256,
      width: 64,
      height: 48,
      regionCount: 12,
      pack: "shapes-tiny@1.1.0",
      name: "cat-01.png",
      metadata: { album: "pets", tags: ["cat", "indoor"] },
      createdAt: "2026-01-05T10:00:00.000Z",
      updatedAt: "2026-01-05T10:00:02.310Z",
    },
  });

export const RegionSchema = z
  .object({
    regionId: z.string(),
    imageId: z.string(),
    regionIndex: z.number().int(),
    bbox: BboxSchema,
    area: z.number(),
    predictedIou: z.number(),
    stability: z.number(),
    mask: MaskSchema,
    imageWidth: z.number().int(),
    imageHeight: z.number().int(),
    pack: z.string(),
  })
  .openapi("Region", { example: REGION_EXAMPLE });

export const SearchResultSchema = z
  .object({
    regionId: z.string(),
    imageId: z.string(),
    score: z.number().openapi({ description: "Cosine similarity in [-1, 1]" }),
    bbox: BboxSchema,
    area: z.number(),
    mask: MaskSchema,
    imageName: z.string().nullable().openapi({ description: "The image's display name" }),
    metadata: MetadataSchema,
  })
  .openapi("SearchResult", {
    example: {
      regionId: EXAMPLE_REGION_ID,
      imageId: "cat-01.png",
      score: 0.312,
      bbox: [20, 12, 24, 18],
      area: 329,
      mask: EXAMPLE_MASK,
      imageName: "cat-01.png",
      metadata: { album: "pets" },
    },
  });

export const SearchResponseSchema = z
  .object({
    results: z.array(SearchResultSchema),
    nextOffset: z.number().int().nullable().openapi({
      description:
        "`offset` of the next page; null when this page is the last (or the offset cap is reached)",
    }),
    tookMs: z.number(),
  })
  .openapi("SearchResponse", {
    example: {
      results: [
        {
          regionId: EXAMPLE_REGION_ID,
          imageId: "cat-01.png",
          score: 0.312,
          bbox: [20, 12, 24, 18],
          area: 329,
          mask: EXAMPLE_MASK,
          imageName: "cat-01.png",
          metadata: { album: "pets" },
        },
      ],
      nextOffset: null,
      tookMs: 4.2,
    },
  });

export function toImageJson(r: ImageRecord): z.infer<typeof ImageSchema> {
  return {
    id: r.id,
    status: r.status,
    contentType: r.contentType,
    bytes: r.bytes,
    sha256: r.sha256,
    width: r.width ?? null,
    height: r.height ?? null,
    regionCount: r.regionCount ?? null,
    pack: r.pack ?? null,
    name: r.name ?? null,
    metadata: r.metadata ?? {},
    ...(r.error === undefined ? {} : { error: r.error }),
    ...(r.errorCode === undefined ? {} : { errorCode: r.errorCode }),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** A stored region point → its public JSON; `null` for points that are not regions (no mask). */
export function toRegionJson(p: StoredPoint): z.infer<typeof RegionSchema> | null {
  const { payload } = p;
  if (payload.kind !== "region" || !payload.mask) return null;
  return {
    regionId: p.id,
    imageId: payload.imageId,
    regionIndex: payload.regionIndex,
    bbox: payload.bbox,
    area: payload.area,
    predictedIou: payload.predictedIou,
    stability: payload.stability,
    mask: payload.mask,
    imageWidth: payload.imageWidth,
    imageHeight: payload.imageHeight,
    pack: payload.pack,
  };
}

/** A `limit`-style query/body integer in 1..max (strings coerced), `defaultValue` when absent. */
export function countParam(max: number, defaultValue: number, noun: string) {
  return z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(defaultValue)
    .openapi({ description: `${noun} to return, 1–${max}`, example: defaultValue });
}
