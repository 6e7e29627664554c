/**
 * Collection bootstrap, safe to run on every start-up and from many instances at once: create the
 * collection if it is missing, check an existing one matches the model pack, add missing payload
 * indexes. It never changes or drops an existing collection: a mismatch is a start-up error.
 */
import type { QdrantClient, Schemas } from "@qdrant/js-client-rest";
import { ApiError } from "../../errors.js";
import { collectionSpec, PAYLOAD_INDEXES, VECTOR_NAME, type ResolvedOptions } from "./config.js";
import { callStore } from "./errors.js";

/** The collection exists but cannot hold this model pack's vectors. Thrown at start-up, never mapped to HTTP. */
export class CollectionMismatchError extends Error {
  override readonly name = "CollectionMismatchError";
}

export interface BootstrapReport {
  serverVersion: string;
  created: boolean;
  indexesCreated: string[];
  /** Whether the existing collection has quantisation (it is never switched on or off here). */
  quantized: boolean;
}

/** What a vector of the existing collection looks like, whether it was created named or unnamed. */
function vectorParams(info: Schemas["CollectionInfo"]): Schemas["VectorParams"] | undefined {
  const vectors = info.config.params.vectors as Record<string, unknown> | undefined;
  if (!vectors) return undefined;
  if ("size" in vectors && "distance" in vectors) return undefined; // unnamed single vector: not ours
  return vectors[VECTOR_NAME] as Schemas["VectorParams"] | undefined;
}

/** Throws a `CollectionMismatchError` naming what differs and what to do about it. */
export function checkCompatible(name: string, info: Schemas["CollectionInfo"], dim: number): void {
  const v = vectorParams(info);
  const fix = "refusing to change it; point QDRANT_COLLECTION at a new collection and copy or re-index into it";
  if (!v) throw new CollectionMismatchError(`Qdrant collection "${name}" has no named vector "${VECTOR_NAME}"; ${fix}`);
  if (v.size !== dim) {
    throw new CollectionMismatchError(`Qdrant collection "${name}" stores ${v.size}-dimensional vectors but the model pack makes ${dim}-dimensional ones; ${fix}`);
  }
  if (v.distance !== "Cosine") {
    throw new CollectionMismatchError(`Qdrant collection "${name}" uses ${v.distance} distance but region-search needs Cosine; ${fix}`);
  }
}

async function getInfo(client: QdrantClient, o: Pick<ResolvedOptions, "collection" | "retry">): Promise<Schemas["CollectionInfo"] | null> {
  try {
    return await callStore(() => client.getCollection(o.collection), true, o.retry);
  } catch (err) {
    if (err instanceof ApiError && (err.cause as { status?: number } | undefined)?.status === 404) return null;
    throw err;
  }
}

/** Creates the collection; losing a creation race to another instance is success. */
async function create(client: QdrantClient, o: ResolvedOptions): Promise<boolean> {
  try {
    // Not retried: a create that timed out may have happened, and a second one would fail as a conflict.
    await callStore(() => client.createCollection(o.collection, collectionSpec(o)), false, o.retry);
    return true;
  } catch (err) {
    if (await getInfo(client, o)) return false;
    throw err;
  }
}

export async function bootstrapCollection(client: QdrantClient, o: ResolvedOptions): Promise<BootstrapReport> {
  const version = await callStore(() => client.versionInfo(), true, o.retry);
  let info = await getInfo(client, o);
  const created = !info && (await create(client, o));
  info ??= await getInfo(client, o);
  if (!info) throw new Error(`Qdrant collection "${o.collection}" could not be created`);
  checkCompatible(o.collection, info, o.dim);

  const indexesCreated: string[] = [];
  for (const { field, schema } of PAYLOAD_INDEXES) {
    if (info.payload_schema[field]) continue;
    await callStore(() => client.createPayloadIndex(o.collection, { field_name: field, field_schema: schema, wait: true }), true, o.retry);
    indexesCreated.push(field);
  }
  return { serverVersion: version.version, created, indexesCreated, quantized: Boolean(info.config.quantization_config) };
}

/**
 * The vector dimension of an existing collection (or alias), or null when there is none: for tools
 * that read a collection without creating one (a copy's source), where no model pack names the size.
 */
export async function existingDimension(client: QdrantClient, o: Pick<ResolvedOptions, "collection" | "retry">): Promise<number | null> {
  const info = await getInfo(client, o);
  if (!info) return null;
  const v = vectorParams(info);
  if (!v) throw new CollectionMismatchError(`Qdrant collection "${o.collection}" has no named vector "${VECTOR_NAME}"; it was not made by region-search`);
  return v.size;
}
