/**
 * The in-memory semantics behind the fake Qdrant server: collections, aliases, points, filters
 * (must/should/must_not, match value/any/except, range, has_id, nested filters), cosine query,
 * group_by, scroll, count. Behaviour follows Qdrant's documentation; where Qdrant would refuse a
 * request (wrong dimension, unknown vector name, duplicate collection), so does this.
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

export class FakeEngine {
  readonly collections = new Map<string, FakeCollection>();
  readonly aliases = new Map<string, string>();
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
      vectors: named as FakeCollection["vectors"],
      config: body,
      points: new Map(),
      indexes: {},
    });
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
    for (const p of prepared) {
      const old = c.points.get(idKey(p.id));
      // update_filter: an existing point that does not match keeps its state; new points are inserted.
      if (old && updateFilter && !matchFilter(old, updateFilter)) continue;
      c.points.set(idKey(p.id), { ...structuredClone(p), version: ++this.version });
    }
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
    for (const k of doomed) c.points.delete(k);
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
        if (g.hits.length < size) g.hits.push(p);
      }
    }
    return [...groups.values()];
  }

  updateAliases(actions: Json[]): void {
    const next = new Map(this.aliases);
    for (const a of actions) {
      if ("create_alias" in a) {
        const { alias_name, collection_name } = a.create_alias as {
          alias_name: string;
          collection_name: string;
        };
        if (!this.collections.has(collection_name))
          throw new FakeError(404, `Not found: Collection \`${collection_name}\` doesn't exist!`);
        // Qdrant refuses an alias named like a collection, and silently re-points an existing alias.
        if (this.collections.has(alias_name))
          throw new FakeError(409, `Wrong input: Collection \`${alias_name}\` already exists!`);
        next.set(alias_name, collection_name);
      } else if ("delete_alias" in a) {
        const { alias_name } = a.delete_alias as { alias_name: string };
        if (!next.delete(alias_name))
          throw new FakeError(404, `Not found: Alias ${alias_name} does not exist!`);
      } else if ("rename_alias" in a) {
        const { old_alias_name, new_alias_name } = a.rename_alias as {
          old_alias_name: string;
          new_alias_name: string;
        };
        const target = next.get(old_alias_name);
        if (!target) throw new FakeError(404, `Not found: Alias ${old_alias_name} does not exist!`);
        next.delete(old_alias_name);
        next.set(new_alias_name, target);
      }
    }
    // All or nothing: Qdrant applies an alias batch atomically.
    this.aliases.clear();
    for (const [k, v] of next) this.aliases.set(k, v);
  }
}
