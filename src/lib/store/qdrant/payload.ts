/**
 * `PointPayload` (camelCase, ours) ↔ Qdrant payload (snake_case, the collection's stored schema).
 * The stored names are a data format: renaming one orphans the payload indexes built on it.
 */
import type { Schemas } from "@qdrant/js-client-rest";
import type { CocoRle } from "../../masks/types.js";
import type { Metadata, PointKind, PointPayload, StoredPoint } from "../types.js";
import { VECTOR_NAME } from "./config.js";

/** The payload exactly as stored in Qdrant. */
export interface QdrantPayload {
  tenant: string;
  image_id: string;
  kind: PointKind;
  region_index: number;
  bbox: [number, number, number, number];
  area: number;
  predicted_iou: number;
  stability: number;
  mask: CocoRle | null;
  pack: string;
  image_width: number;
  image_height: number;
  created_at: string;
  /** The image's name and user metadata (metadata.ts); absent on points written before them. */
  name?: string | null;
  metadata?: Metadata;
}

function toQdrantPayload(p: PointPayload): QdrantPayload {
  return {
    tenant: p.tenant,
    image_id: p.imageId,
    kind: p.kind,
    region_index: p.regionIndex,
    bbox: [...p.bbox],
    area: p.area,
    predicted_iou: p.predictedIou,
    stability: p.stability,
    mask: p.mask ? { size: [...p.mask.size], counts: p.mask.counts } : null,
    pack: p.pack,
    image_width: p.imageWidth,
    image_height: p.imageHeight,
    created_at: p.createdAt,
    ...(p.name === undefined ? {} : { name: p.name }),
    ...(p.metadata === undefined ? {} : { metadata: p.metadata }),
  };
}

/**
 * Stored payload → ours. Throws on a point that does not carry our schema (written by another tool
 * into the same collection): returning it half-filled would leak `undefined` into API responses.
 */
function fromQdrantPayload(
  raw: Record<string, unknown> | null | undefined,
  id: string,
): PointPayload {
  const q = (raw ?? {}) as Partial<QdrantPayload>;
  if (
    typeof q.tenant !== "string" ||
    typeof q.image_id !== "string" ||
    typeof q.region_index !== "number" ||
    !Array.isArray(q.bbox)
  ) {
    throw new Error(`Qdrant point ${id} does not carry a region-search payload`);
  }
  return {
    tenant: q.tenant,
    imageId: q.image_id,
    kind: q.kind === "image" ? "image" : "region",
    regionIndex: q.region_index,
    bbox: q.bbox,
    area: Number(q.area),
    predictedIou: Number(q.predicted_iou),
    stability: Number(q.stability),
    mask: q.mask ?? null,
    pack: String(q.pack),
    imageWidth: Number(q.image_width),
    imageHeight: Number(q.image_height),
    createdAt: String(q.created_at),
    ...(typeof q.name === "string" ? { name: q.name } : {}),
    ...(q.metadata && typeof q.metadata === "object" ? { metadata: q.metadata } : {}),
  };
}

/** Our point → Qdrant's `PointStruct` with the named vector. */
export function toPointStruct(p: StoredPoint): Schemas["PointStruct"] {
  return {
    id: p.id,
    vector: { [VECTOR_NAME]: Array.from(p.vector) },
    payload: toQdrantPayload(p.payload) as unknown as Record<string, unknown>,
  };
}

/** A record (scroll) or scored point (query) → our point; the vector is empty unless it was asked for. */
export function fromRecord(r: {
  id: string | number;
  payload?: Record<string, unknown> | null;
  vector?: unknown;
}): StoredPoint {
  const id = String(r.id);
  const named =
    r.vector && typeof r.vector === "object" && !Array.isArray(r.vector)
      ? (r.vector as Record<string, unknown>)[VECTOR_NAME]
      : undefined;
  return {
    id,
    vector: Array.isArray(named) ? Float32Array.from(named as number[]) : new Float32Array(0),
    payload: fromQdrantPayload(r.payload, id),
  };
}
