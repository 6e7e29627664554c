/**
 * Start-up checks of an existing collection beyond its vectors (bootstrap.ts): that each payload
 * index has the schema we would have created, and that every shard has as many replicas as the
 * collection promises. Both refuse to serve rather than degrade silently.
 */
import type { QdrantClient, Schemas } from "@qdrant/js-client-rest";
import type { ResolvedOptions } from "./config.js";
import { callStore } from "./errors.js";

/** The collection cannot keep this deployment's promises. Thrown at start-up, never mapped to HTTP. */
export class CollectionSetupError extends Error {
  override readonly name = "CollectionSetupError";
}

/**
 * Index parameters that change what the index does for us, with Qdrant's default when unset
 * (qdrant lib/segment/src/data_types/index.rs): `is_tenant` co-locates a tenant's points and builds
 * its HNSW links, `range` serves the `minArea` filter. Others (`lookup`, `on_disk`) only tune cost.
 */
const CHECKED_PARAMS: Record<string, unknown> = { is_tenant: false, range: true };

/** Throws when the existing index on `field` is not of the wanted type or lacks a checked parameter. */
export function checkIndex(
  collection: string,
  field: string,
  existing: Schemas["PayloadIndexInfo"],
  wanted: Schemas["PayloadFieldSchema"],
): void {
  const want = typeof wanted === "string" ? { type: wanted } : (wanted as Record<string, unknown>);
  const have = (existing.params ?? {}) as Record<string, unknown>;
  const diffs: string[] = [];
  if (existing.data_type !== want.type)
    diffs.push(`type ${existing.data_type}, wanted ${String(want.type)}`);
  for (const [key, dflt] of Object.entries(CHECKED_PARAMS)) {
    if (!(key in want)) continue;
    const value = have[key] ?? dflt;
    if (value !== want[key]) diffs.push(`${key}: ${String(value)}, wanted ${String(want[key])}`);
  }
  if (diffs.length)
    throw new CollectionSetupError(
      `Qdrant collection "${collection}": the payload index on "${field}" has ${diffs.join("; ")}. ` +
        `Drop it (DELETE /collections/${collection}/index/${field}) and start again: start-up creates it as wanted`,
    );
}

/**
 * Throws when a shard of the collection has fewer replicas than its `replication_factor` (or
 * `QDRANT_REPLICATION_FACTOR`, if higher). Qdrant places min(replication_factor, peers known at
 * creation) replicas (qdrant lib/storage/src/content_manager/shard_distribution.rs) and then
 * acknowledges a write once min(write_consistency_factor, replicas) applied it
 * (lib/collection/src/shards/replica_set/update.rs): a collection created before every node joined
 * silently keeps one copy. Replicas are counted whatever their state: a node that is down still
 * holds its replica and gets it back; a replica that was never placed never comes.
 */
export async function checkReplicas(
  client: QdrantClient,
  o: ResolvedOptions,
  info: Schemas["CollectionInfo"],
): Promise<void> {
  const wanted = Math.max(info.config.params.replication_factor ?? 1, o.replicationFactor ?? 1);
  if (wanted <= 1) return;
  const cluster = await callStore(
    () => client.collectionClusterInfo(o.collection),
    true,
    o.retry,
    o.timeoutMs,
  );
  const replicas = new Map<number, number>();
  for (let id = 0; id < cluster.shard_count; id++) replicas.set(id, 0);
  for (const s of [...cluster.local_shards, ...cluster.remote_shards])
    replicas.set(s.shard_id, (replicas.get(s.shard_id) ?? 0) + 1);
  const short = [...replicas].filter(([, n]) => n < wanted);
  if (short.length)
    throw new CollectionSetupError(
      `Qdrant collection "${o.collection}" should keep ${wanted} replicas of every shard, but ` +
        short.map(([id, n]) => `shard ${id} has ${n}`).join(", ") +
        ` (created before every node joined?). Add replicas (POST /collections/${o.collection}/cluster, ` +
        `replicate_shard) or re-create it with every node up; refusing to serve on it`,
    );
}
