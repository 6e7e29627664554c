/**
 * How the fake Qdrant prints what it holds: the `{result, status, time}` envelope, update results,
 * stored points (payload/vector selectors), collection info.
 */
import { FakeError, type FakeCollection, type FakePoint } from "./qdrant-fake-engine.js";

type Json = Record<string, unknown>;

export const ok = (result: unknown) => ({ result, status: "ok", time: 0.0001 });

/** An UpdateResult (one per operation for a batch) with the given status. */
export function updateResult(op: string, body: unknown, status: string): unknown {
  const one = { operation_id: 0, status };
  return op === "batch_update"
    ? ((body as { operations?: unknown[] } | undefined)?.operations ?? []).map(() => one)
    : one;
}

function pick(obj: Json, sel: unknown): Json | undefined {
  if (sel === false || sel == null) return undefined;
  if (sel === true) return obj;
  if (Array.isArray(sel))
    return Object.fromEntries(Object.entries(obj).filter(([k]) => sel.includes(k)));
  throw new FakeError(400, "fake qdrant: payload selectors are not implemented");
}

/** A stored point as Qdrant prints it: `with_payload` defaults to true for reads, `with_vector` to false. */
export function render(
  p: FakePoint & { score?: number },
  withPayload: unknown = true,
  withVector: unknown = false,
): Json {
  const vectors = pick(p.vectors, withVector);
  const vector = vectors && ("" in vectors ? vectors[""] : vectors);
  return {
    id: p.id,
    ...(p.score !== undefined ? { version: p.version, score: p.score } : {}),
    payload: pick(p.payload, withPayload) ?? null,
    vector: vector ?? null,
  };
}

export function info(c: FakeCollection): Json {
  const cfg = c.config;
  const payload_schema = Object.fromEntries(
    Object.entries(c.indexes).map(([k, v]) => [k, { ...v, points: c.points.size }]),
  );
  return {
    status: "green",
    optimizer_status: "ok",
    indexed_vectors_count: 0,
    points_count: c.points.size,
    segments_count: 1,
    config: {
      params: {
        vectors: cfg.vectors,
        shard_number: cfg.shard_number ?? 1,
        replication_factor: cfg.replication_factor ?? 1,
        write_consistency_factor: cfg.write_consistency_factor ?? 1,
        on_disk_payload: true,
      },
      hnsw_config: {
        m: 16,
        ef_construct: 100,
        full_scan_threshold: 10_000,
        ...(cfg.hnsw_config as Json),
      },
      optimizer_config: { default_segment_number: 0, flush_interval_sec: 5 },
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
      quantization_config: cfg.quantization_config ?? null,
    },
    payload_schema,
  };
}
