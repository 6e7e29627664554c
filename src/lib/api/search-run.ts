/**
 * What GET/POST /v1/search and /v1/search/similar share: the query schemas (built from the limits)
 * and hit → result mapping. Only `kind: "region"` points are ever returned.
 */
import { z } from "@hono/zod-openapi";
import type { Limits } from "../limits.js";
import { MetadataFilterSchema } from "../metadata/index.js";
import type { MetadataFilter, SearchFilter, SearchHit } from "../store/types.js";
import { countParam, ImageIdSchema, type SearchResultSchema } from "./schemas.js";

export function limitSchema(limits: Limits) {
  return countParam(limits.maxSearchLimit, limits.defaultSearchLimit, "Results");
}

export function querySchema(limits: Limits) {
  return z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(limits.maxQueryChars, `must be at most ${limits.maxQueryChars} characters`)
    .openapi({ example: "a small striped red star" });
}

/** `offset`: results to skip, 0–maxSearchOffset (pagination; docs/search.md#pagination). */
export function offsetSchema(limits: Limits) {
  return z.coerce
    .number()
    .int()
    .min(0)
    .max(limits.maxSearchOffset)
    .default(0)
    .openapi({
      description: `Results to skip (pagination), 0–${limits.maxSearchOffset}`,
      example: 0,
    });
}

/** The fields every search body shares with similar search: the metadata filter and the offset. */
export function pageFields(limits: Limits) {
  return { filter: MetadataFilterSchema.optional(), offset: offsetSchema(limits) };
}

export function filterFields(limits: Limits) {
  return {
    ...pageFields(limits),
    imageIds: z
      .array(ImageIdSchema)
      .min(1)
      .max(limits.maxImageIds)
      .optional()
      .openapi({
        description: `Only regions of these images (at most ${limits.maxImageIds})`,
        example: ["cat-01.png", "cat-02.png"],
      }),
    minArea: z
      .number()
      .min(0)
      .optional()
      .openapi({ description: "Only regions of at least this many pixels", example: 100 }),
    groupByImage: z
      .boolean()
      .optional()
      .openapi({ description: "At most one result (the best region) per image", example: true }),
    minScore: z.number().min(-1).max(1).optional().openapi({
      description:
        "Only results scoring at least this: fewer (or no) results instead of weak ones. Its measured meaning per pack: docs/search.md",
      example: 0.4,
    }),
  };
}

/** The region filter of a search: always regions only, plus what the caller asked for. */
export function regionFilter(
  imageIds?: string[],
  minArea?: number,
  metadata?: MetadataFilter,
): SearchFilter {
  return {
    kind: "region",
    ...(imageIds ? { imageIds } : {}),
    ...(minArea !== undefined ? { minArea } : {}),
    ...(metadata ? { metadata } : {}),
  };
}

/**
 * One page of results: the store is asked for `offset + limit` hits and the first `offset` are
 * skipped (what Qdrant does for its own `offset`), so both stores page alike. `nextOffset` is null
 * once the store ran out of hits or the next page would pass the offset cap.
 */
export function pageOf(
  hits: SearchHit[],
  page: { offset: number; limit: number; maxOffset: number; minScore?: number },
) {
  const results = toSearchResults(hits.slice(page.offset, page.offset + page.limit), page.minScore);
  const next = page.offset + page.limit;
  const more = hits.length >= next && results.length === page.limit && next <= page.maxOffset;
  return { results, nextOffset: more ? next : null };
}

/** Region hits as results, best first; with `minScore`, those scoring below it are left out. */
export function toSearchResults(
  hits: SearchHit[],
  minScore = -Infinity,
): z.infer<typeof SearchResultSchema>[] {
  return hits.flatMap((h) => {
    const p = h.payload;
    if (p.kind !== "region" || !p.mask || h.score < minScore) return [];
    return [
      {
        regionId: h.id,
        imageId: p.imageId,
        score: h.score,
        bbox: p.bbox,
        area: p.area,
        mask: p.mask,
        imageName: p.name ?? null,
        metadata: p.metadata ?? {},
      },
    ];
  });
}

export const elapsedMs = (t0: number): number => Math.round((performance.now() - t0) * 100) / 100;
