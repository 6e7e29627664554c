/**
 * Collection bootstrap, safe to run on every start-up and from many instances at once: create the
 * collection if it is missing, check an existing one matches the model pack, add missing payload
 * indexes. It never changes or drops an existing collection or alias: a mismatch is a start-up error.
 *
 * On a fresh deployment the name (`QDRANT_COLLECTION`) becomes an ALIAS: bootstrap creates the
 * collection `<name>_v1` and the alias `<name>` → `<name>_v1`, so a later re-index (reindex.ts) can
 * build `<name>_v2` beside it and switch the alias atomically. A name that already exists — a plain
 * collection made before this layout, or an alias made by hand — is used exactly as it is.
 */
import type { QdrantClient, Schemas } from "@qdrant/js-client-rest";
import { ApiError } from "../../errors.js";
import {
  collectionSpec,
  PAYLOAD_INDEXES,
  VECTOR_NAME,
  versionedName,
  type ResolvedOptions,
  type RetryOptions,
} from "./config.js";
import { callStore, checkApplied } from "./errors.js";
import { metadataPayloadIndexes } from "./metadata.js";
import { checkIndex, checkReplicas } from "./verify.js";

/** The collection exists but cannot hold this model pack's vectors. Thrown at start-up, never mapped to HTTP. */
export class CollectionMismatchError extends Error {
  override readonly name = "CollectionMismatchError";
}

export interface BootstrapReport {
  serverVersion: string;
  /** Whether this instance created the collection (false: it existed, or another instance created it first). */
  created: boolean;
  /** On a fresh deployment, the collection set up behind the alias (`<name>_v1`); null when the name already existed. */
  aliasTarget: string | null;
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
function checkCompatible(name: string, info: Schemas["CollectionInfo"], dim: number): void {
  const v = vectorParams(info);
  const fix =
    "refusing to change it; point QDRANT_COLLECTION at a new collection and copy or re-index into it";
  if (!v)
    throw new CollectionMismatchError(
      `Qdrant collection "${name}" has no named vector "${VECTOR_NAME}"; ${fix}`,
    );
  if (v.size !== dim) {
    throw new CollectionMismatchError(
      `Qdrant collection "${name}" stores ${v.size}-dimensional vectors but the model pack makes ${dim}-dimensional ones; ${fix}`,
    );
  }
  if (v.distance !== "Cosine") {
    throw new CollectionMismatchError(
      `Qdrant collection "${name}" uses ${v.distance} distance but region-search needs Cosine; ${fix}`,
    );
  }
}

/** Qdrant only allows names up to this long (collections and aliases alike). */
const MAX_NAME = 255;

/** Info of a collection, or of the collection behind an alias of that name; null when the name is unknown. */
async function getInfo(
  client: QdrantClient,
  name: string,
  retry: RetryOptions,
  budgetMs?: number,
): Promise<Schemas["CollectionInfo"] | null> {
  try {
    return await callStore(() => client.getCollection(name), true, retry, budgetMs);
  } catch (err) {
    if (err instanceof ApiError && (err.cause as { status?: number } | undefined)?.status === 404)
      return null;
    throw err;
  }
}

/** Creates collection `name`; losing a creation race to another instance is success (false). */
async function create(client: QdrantClient, o: ResolvedOptions, name: string): Promise<boolean> {
  try {
    // Not retried: a create that timed out may have happened, and a second one would fail as a conflict.
    await callStore(
      (timeout) => client.createCollection(name, { ...collectionSpec(o), timeout }),
      false,
      o.retry,
      o.timeoutMs,
    );
    return true;
  } catch (err) {
    if (await getInfo(client, name, o.retry, o.timeoutMs)) return false;
    throw err;
  }
}

/**
 * Points the alias `o.collection` at `collection`; another instance having created it first is
 * success. Not retried (like the collection): whether it happened is read back instead.
 */
async function createAlias(
  client: QdrantClient,
  o: ResolvedOptions,
  collection: string,
): Promise<void> {
  const actions: Schemas["AliasOperations"][] = [
    { create_alias: { alias_name: o.collection, collection_name: collection } },
  ];
  try {
    await callStore(
      (timeout) => client.updateCollectionAliases({ actions, timeout }),
      false,
      o.retry,
      o.timeoutMs,
    );
  } catch (err) {
    if (await getInfo(client, o.collection, o.retry, o.timeoutMs)) return;
    throw err;
  }
}

/**
 * A fresh deployment: `<name>_v1` (created, or left by an instance that won the race or stopped
 * before the alias), checked BEFORE the alias makes it live, then the alias `<name>` to it.
 */
async function createAliased(
  client: QdrantClient,
  o: ResolvedOptions,
  target: string,
): Promise<boolean> {
  if (target.length > MAX_NAME)
    throw new Error(
      `Qdrant collection name "${o.collection}" is too long to add "${target.slice(o.collection.length)}" to it`,
    );
  const created = await create(client, o, target);
  if (!created) {
    const existing = await getInfo(client, target, o.retry, o.timeoutMs);
    if (!existing) throw new Error(`Qdrant collection "${target}" could not be created`);
    checkCompatible(target, existing, o.dim);
  }
  await createAlias(client, o, target);
  return created;
}

export async function bootstrapCollection(
  client: QdrantClient,
  o: ResolvedOptions,
): Promise<BootstrapReport> {
  const version = await callStore(() => client.versionInfo(), true, o.retry, o.timeoutMs);
  let info = await getInfo(client, o.collection, o.retry, o.timeoutMs);
  let created = false;
  let aliasTarget: string | null = null;
  if (!info) {
    if (o.createAlias) {
      aliasTarget = versionedName(o.collection, 1);
      created = await createAliased(client, o, aliasTarget);
    } else {
      created = await create(client, o, o.collection);
    }
    info = await getInfo(client, o.collection, o.retry, o.timeoutMs);
  }
  if (!info) throw new Error(`Qdrant collection "${o.collection}" could not be created`);
  checkCompatible(o.collection, info, o.dim);

  // Through the alias name when it is one: Qdrant resolves aliases for index creation as for any collection operation.
  const indexesCreated: string[] = [];
  for (const { field, schema } of [
    ...PAYLOAD_INDEXES,
    ...metadataPayloadIndexes(o.metadataIndexes),
  ]) {
    const existing = info.payload_schema[field];
    if (existing) {
      checkIndex(o.collection, field, existing, schema);
      continue;
    }
    await callStore(
      (timeout) =>
        client
          .createPayloadIndex(o.collection, {
            field_name: field,
            field_schema: schema,
            wait: true,
            timeout,
          })
          .then(checkApplied),
      true,
      o.retry,
      o.timeoutMs,
    );
    indexesCreated.push(field);
  }
  await checkReplicas(client, o, info);
  return {
    serverVersion: version.version,
    created,
    aliasTarget,
    indexesCreated,
    quantized: Boolean(info.config.quantization_config),
  };
}

/**
 * The vector dimension of an existing collection (or alias), or null when there is none: for tools
 * that read a collection without creating one (a copy's source), where no model pack names the size.
 */
export async function existingDimension(
  client: QdrantClient,
  o: Pick<ResolvedOptions, "collection" | "retry">,
): Promise<number | null> {
  const info = await getInfo(client, o.collection, o.retry);
  if (!info) return null;
  const v = vectorParams(info);
  if (!v)
    throw new CollectionMismatchError(
      `Qdrant collection "${o.collection}" has no named vector "${VECTOR_NAME}"; it was not made by region-search`,
    );
  return v.size;
}
