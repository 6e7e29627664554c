/**
 * The in-memory semantics behind the fake Qdrant server: collections, aliases, points, filters
 * (must/should/must_not, match value/any/except, range, has_id, nested filters), cosine query,
 * group_by, scroll, count. Where the adapter relies on how Qdrant BEHAVES (not only on what its
 * schema accepts), the behaviour is modelled on Qdrant 1.19's source, each cited where it is
 * modelled (paths in github.com/qdrant/qdrant at v1.19.0):
 * - alias actions applied one by one, no rollback; deleting a missing alias is OK (`updateAliases`);
 * - points split over shards, one request per shard, some of which can fail (`ShardFault`);
 * - `group_by` choosing the points first and filling in payloads after (`groups`);
 * - shard replicas placed on the peers known when the collection is created (`placeReplicas`).
 * Where Qdrant would refuse a request (wrong dimension, unknown vector name, duplicate collection),
 * so does this, with Qdrant's status code and message.
 */
type Json = Record<string, unknown>;
type Id = string | number;

export class FakeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FakePoint {
  id: Id;
  vectors: Record<string, number[]>;
  payload: Json;
  version: number;
}

export interface FakeCollection {
  name: string;
  /** Shards (`shard_number`, default 1) and, per shard, the peers holding a replica. */
  shards: number[][];
  vectors: Record<string, { size: number; distance: string }>;
  config: Json;
  points: Map<string, FakePoint>;
  indexes: Record<string, { data_type: string; params?: Json }>;
}

/** Qdrant prints UUIDs lowercase and hyphenated whatever form they were sent in. */
export const idKey = (id: Id): string => (typeof id === "string" ? id.toLowerCase() : String(id));

const list = <T>(x: T | T[] | null | undefined): T[] =>
  x == null ? [] : Array.isArray(x) ? x : [x];

/** Values at a payload key (`a.b` paths; arrays flatten, as Qdrant matches any element). */
function valuesAt(payload: Json, key: string): unknown[] {
  let cur: unknown[] = [payload];
  for (const part of key.split("."))
    cur = cur.flatMap((v) =>
      v && typeof v === "object" && !Array.isArray(v) ? list((v as Json)[part] as unknown) : [],
    );
  return cur;
}

function matchField(p: FakePoint, c: Json): boolean {
  const values = valuesAt(p.payload, String(c.key));
  const match = c.match as Json | undefined;
  const range = c.range as Record<string, number | null | undefined> | undefined;
  if (match && "value" in match) return values.some((v) => v === match.value);
  if (match && "any" in match) return values.some((v) => (match.any as unknown[]).includes(v));
  if (match && "except" in match)
    return values.length > 0 && values.some((v) => !(match.except as unknown[]).includes(v));
  if (range && Object.values(range).some((b) => typeof b === "string"))
    return inDateRange(values, range);
  if (range) {
    return values.some(
      (v) =>
        typeof v === "number" &&
        (range.gt == null || v > range.gt) &&
        (range.gte == null || v >= range.gte) &&
        (range.lt == null || v < range.lt) &&
        (range.lte == null || v <= range.lte),
    );
  }
  throw new FakeError(400, `fake qdrant: unsupported field condition ${JSON.stringify(c)}`);
}

/** `DatetimeRange`: string values that parse as date-times, compared as instants (Qdrant's docs). */
function inDateRange(values: unknown[], range: Record<string, unknown>): boolean {
  const t = (v: unknown) => (typeof v === "string" ? Date.parse(v) : NaN);
  const b = (k: string) => (range[k] == null ? undefined : t(range[k]));
  const [gt, gte, lt, lte] = ["gt", "gte", "lt", "lte"].map(b);
  return values.some((v) => {
    const x = t(v);
    return (
      !Number.isNaN(x) &&
      (gt === undefined || x > gt) &&
      (gte === undefined || x >= gte) &&
      (lt === undefined || x < lt) &&
      (lte === undefined || x <= lte)
    );
  });
}

/** `is_empty`: missing, null or []; `is_null`: present and null (Qdrant's documented semantics). */
function emptyOrNull(p: FakePoint, c: Json): boolean | undefined {
  if ("is_empty" in c) return valuesAt(p.payload, String((c.is_empty as Json).key)).length === 0;
  if (!("is_null" in c)) return undefined;
  const parts = String((c.is_null as Json).key).split(".");
  let cur: unknown = p.payload;
  for (const part of parts) cur = cur && typeof cur === "object" ? (cur as Json)[part] : undefined;
  return cur === null;
}

function matchCondition(p: FakePoint, c: Json): boolean {
  const special = emptyOrNull(p, c);
  if (special !== undefined) return special;
  if ("has_id" in c) return (c.has_id as Id[]).some((id) => idKey(id) === idKey(p.id));
  if ("key" in c) return matchField(p, c);
  if ("must" in c || "should" in c || "must_not" in c) return matchFilter(p, c);
  throw new FakeError(400, `fake qdrant: unsupported condition ${JSON.stringify(c)}`);
}

export function matchFilter(p: FakePoint, f: Json | null | undefined): boolean {
  if (!f) return true;
  const should = list(f.should as Json | Json[]);
  return (
    list(f.must as Json | Json[]).every((c) => matchCondition(p, c)) &&
    (should.length === 0 || should.some((c) => matchCondition(p, c))) &&
    !list(f.must_not as Json | Json[]).some((c) => matchCondition(p, c))
  );
}

function normalise(v: number[]): number[] {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => Math.fround(x / n));
}

/**
 * Make the next update(s) fail on some shards. Qdrant splits an update into one request per shard
 * and runs them all; when only some fail, the others stay applied and the answer is the first
 * error, reworded "k out of n shards failed to apply operation" (InconsistentShardFailure, qdrant
 * lib/collection/src/collection/point_ops.rs `update_from_client`), with that error's status.
 */
export interface ShardFault {
  shards: number[];
  status?: number;
  message?: string;
  /** Updates (one upsert or delete each) that fail so; default 1. */
  times?: number;
}

/** Which shard holds a point (Qdrant hashes the id onto a ring; any stable spread will do here). */
export function shardOf(id: Id, shardCount: number): number {
  let h = 0;
  for (const ch of idKey(id)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % shardCount;
}

export class FakeEngine {
  readonly collections = new Map<string, FakeCollection>();
  readonly aliases = new Map<string, string>();
  /** Peers in the cluster as a collection is created (the fake serves as peer 1). */
  peers = 1;
  /** Armed shard failures (see `ShardFault`). */
  readonly shardFaults: ShardFault[] = [];
  /** Fail the first action of this kind in the next `update_aliases` request (e.g. its save failing). */
  aliasActionFault?: { action: string; status: number; message: string };
  /** Called once, then cleared, between a `group_by` choosing its points and filling their payloads. */
  beforeHydrate?: () => void;
  private version = 0;

  /** The collection `name` names, through an alias if it is one (what Qdrant does for every collection operation). */
  resolve(name: string): FakeCollection {
    const c = this.collections.get(this.aliases.get(name) ?? name);
    if (!c) throw new FakeError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return c;
  }

  create(name: string, body: Json): void {
    if (this.collections.has(name) || this.aliases.has(name))
      throw new FakeError(409, `Wrong input: Collection \`${name}\` already exists!`);
    const vectors = body.vectors as Json;
    const named = "size" in vectors ? { "": vectors } : vectors;
    this.collections.set(name, {
      name,
      shards: this.placeReplicas(
        (body.shard_number as number | undefined) ?? 1,
        (body.replication_factor as number | undefined) ?? 1,
      ),
      vectors: named as FakeCollection["vectors"],
      config: body,
      points: new Map(),
      indexes: {},
    });
  }

  /**
   * Replicas per shard = min(replication_factor, peers known now), spread over the peers: a
   * collection created before every peer joined keeps fewer replicas for good (qdrant
   * lib/storage/src/content_manager/shard_distribution.rs `ShardDistributionProposal::new`).
   */
  private placeReplicas(shardNumber: number, replicationFactor: number): number[][] {
    const replicas = Math.min(replicationFactor, this.peers);
    return Array.from({ length: shardNumber }, (_, s) =>
      Array.from({ length: replicas }, (_, r) => ((s + r) % this.peers) + 1),
    );
  }

  /**
   * Applies `apply` to the given points shard by shard, skipping shards an armed `ShardFault` fails,
   * then throws as Qdrant answers a partly failed update (see `ShardFault`).
   */
  private perShard(
    c: FakeCollection,
    keys: string[],
    apply: (key: string) => void,
    everyShard = false,
  ): void {
    const count = c.shards.length;
    const touched = new Set(everyShard ? c.shards.keys() : keys.map((k) => shardOf(k, count)));
    const fault = this.shardFaults[0];
    const failed = fault ? [...touched].filter((s) => fault.shards.includes(s)) : [];
    for (const k of keys) if (!failed.includes(shardOf(k, count))) apply(k);
    if (!fault || !failed.length) return;
    if (--fault.times! <= 0) this.shardFaults.shift();
    const first = fault.message ?? "Service internal error: injected shard failure";
    const status = fault.status ?? 500;
    if (failed.length === touched.size) throw new FakeError(status, first);
    throw new FakeError(
      status,
      `${failed.length} out of ${touched.size} shards failed to apply operation. First error captured: ${first}`,
    );
  }

  failShards(fault: ShardFault): void {
    this.shardFaults.push({ times: 1, ...fault });
  }

  /** DELETE /collections/{name}: the collection of exactly that name (an alias name is not resolved), with its aliases. */
  drop(name: string): boolean {
    if (!this.collections.delete(name)) return false;
    for (const [alias, target] of [...this.aliases])
      if (target === name) this.aliases.delete(alias);
    return true;
  }

  upsert(c: FakeCollection, points: Json[], updateFilter?: Json | null): void {
    const prepared = points.map((p) => ({
      id: p.id as Id,
      vectors: this.vectorsOf(c, p.vector),
      payload: (p.payload ?? {}) as Json,
    }));
    const byKey = new Map(prepared.map((p) => [idKey(p.id), p]));
    this.perShard(c, [...byKey.keys()], (key) => {
      const p = byKey.get(key)!;
      const old = c.points.get(key);
      // update_filter: an existing point that does not match keeps its state; new points are inserted.
      if (old && updateFilter && !matchFilter(old, updateFilter)) return;
      c.points.set(key, { ...structuredClone(p), version: ++this.version });
    });
  }

  private vectorsOf(c: FakeCollection, vector: unknown): Record<string, number[]> {
    const given = (Array.isArray(vector) ? { "": vector } : vector) as Record<string, number[]>;
    const out: Record<string, number[]> = {};
    for (const [name, v] of Object.entries(given)) {
      const params = c.vectors[name];
      if (!params) throw new FakeError(400, `Wrong input: Not existing vector name error: ${name}`);
      if (v.length !== params.size)
        throw new FakeError(
          400,
          `Wrong input: Vector dimension error: expected dim: ${params.size}, got ${v.length}`,
        );
      // Qdrant normalises cosine vectors on write and returns the normalised ones.
      out[name] = params.distance === "Cosine" ? normalise(v) : [...v];
    }
    return out;
  }

  select(c: FakeCollection, filter?: Json | null): FakePoint[] {
    return [...c.points.values()]
      .filter((p) => matchFilter(p, filter))
      .sort((a, b) => (idKey(a.id) < idKey(b.id) ? -1 : 1));
  }

  /** `set_payload`: the given top-level keys replaced on the selected points (ids or filter). */
  setPayload(c: FakeCollection, body: Json): void {
    const chosen =
      "points" in body && body.points
        ? new Set((body.points as Id[]).map(idKey))
        : new Set(this.select(c, body.filter as Json).map((p) => idKey(p.id)));
    for (const k of chosen) {
      const p = c.points.get(k);
      if (p) Object.assign(p.payload, structuredClone(body.payload as Json));
    }
  }

  deletePoints(c: FakeCollection, selector: Json): void {
    const doomed =
      "points" in selector
        ? new Set((selector.points as Id[]).map(idKey))
        : new Set(this.select(c, selector.filter as Json).map((p) => idKey(p.id)));
    // A delete by filter goes to every shard, a delete by ids to the shards holding them.
    this.perShard(c, [...doomed], (k) => c.points.delete(k), !("points" in selector));
  }

  /** Points ranked by cosine similarity to `query` (Dot of normalised vectors, as Qdrant computes it). */
  rank(c: FakeCollection, body: Json): Array<FakePoint & { score: number }> {
    const using = (body.using as string | undefined) ?? "";
    const params = c.vectors[using];
    if (!params) throw new FakeError(400, `Wrong input: Not existing vector name error: ${using}`);
    const q = body.query as number[];
    if (!Array.isArray(q) || q.some((x) => typeof x !== "number"))
      throw new FakeError(400, "fake qdrant: only dense vector queries are implemented");
    if (q.length !== params.size)
      throw new FakeError(
        400,
        `Wrong input: Vector dimension error: expected dim: ${params.size}, got ${q.length}`,
      );
    const nq = normalise(q);
    const threshold = body.score_threshold as number | undefined;
    return this.select(c, body.filter as Json)
      .map((p) => ({
        ...p,
        score: Math.fround(p.vectors[using]!.reduce((s, x, i) => s + x * nq[i]!, 0)),
      }))
      .filter((p) => threshold == null || p.score >= threshold)
      .sort((a, b) => b.score - a.score);
  }

  groups(
    c: FakeCollection,
    body: Json,
  ): Array<{ id: string | number; hits: Array<FakePoint & { score: number }> }> {
    const key = String(body.group_by);
    const size = (body.group_size as number | undefined) ?? 3;
    const limit = (body.limit as number | undefined) ?? 10;
    const groups = new Map<
      unknown,
      { id: string | number; hits: Array<FakePoint & { score: number }> }
    >();
    for (const p of this.rank(c, body)) {
      for (const value of valuesAt(p.payload, key)) {
        if (typeof value !== "string" && typeof value !== "number") continue;
        const g = groups.get(value) ?? (groups.size < limit ? { id: value, hits: [] } : undefined);
        if (!g) continue;
        groups.set(value, g);
        // Chosen bare: only the group key travels with a candidate.
        if (g.hits.length < size) g.hits.push({ ...p, payload: { [key]: value } });
      }
    }
    // Payloads are filled in by id AFTER the groups are chosen; a point deleted in between keeps
    // only its group key (qdrant lib/collection/src/grouping/group_by.rs `group_by`, "enrich with
    // payload and vector"; `Group::hydrate_from` in lib/shard/src/grouping/mod.rs).
    const hook = this.beforeHydrate;
    this.beforeHydrate = undefined;
    hook?.();
    for (const g of groups.values())
      g.hits = g.hits.map((h) => {
        const now = c.points.get(idKey(h.id));
        return now ? { ...h, payload: now.payload, vectors: now.vectors } : h;
      });
    return [...groups.values()];
  }

  /**
   * Alias actions in order, each applied (and persisted) on its own: a failing action ends the
   * request with its error and the actions before it STAY applied (qdrant
   * lib/storage/src/content_manager/toc/collection_meta_ops.rs `update_aliases`, which returns on
   * the first error; lib/storage/src/content_manager/alias_mapping.rs saves after every change).
   * `create_alias` re-points an existing alias (`insert`), deleting a missing alias is OK (`remove`
   * returns `Ok(None)`), renaming a missing one is a 404.
   */
  updateAliases(actions: Json[]): void {
    const fault = this.aliasActionFault;
    this.aliasActionFault = undefined;
    for (const a of actions) {
      if (fault && fault.action in a) throw new FakeError(fault.status, fault.message);
      if ("create_alias" in a) {
        const { alias_name, collection_name } = a.create_alias as {
          alias_name: string;
          collection_name: string;
        };
        // lib/storage/src/content_manager/collections_ops.rs `validate_collection_exists` / `_not_exists`.
        if (!this.collections.has(collection_name))
          throw new FakeError(404, `Not found: Collection \`${collection_name}\` doesn't exist!`);
        if (this.collections.has(alias_name))
          throw new FakeError(409, `Wrong input: Collection \`${alias_name}\` already exists!`);
        this.aliases.set(alias_name, collection_name);
      } else if ("delete_alias" in a) {
        this.aliases.delete((a.delete_alias as { alias_name: string }).alias_name);
      } else if ("rename_alias" in a) {
        const { old_alias_name, new_alias_name } = a.rename_alias as {
          old_alias_name: string;
          new_alias_name: string;
        };
        const target = this.aliases.get(old_alias_name);
        if (!target)
          throw new FakeError(404, `Not found: Alias ${old_alias_name} does not exists!`);
        this.aliases.delete(old_alias_name);
        this.aliases.set(new_alias_name, target);
      }
    }
  }
}
