/**
 * A brute-force in-memory VectorStore: the reference the conformance suite is checked against (so a
 * failing LanceDB run points at the adapter, not at the suite), and a fast store for API tests.
 */
import { matchesMetadata } from "../../src/lib/metadata/index.js";
import type {
  ImageFields,
  ScanOptions,
  SearchFilter,
  SearchHit,
  SearchOptions,
  StoredPoint,
  VectorStore,
} from "../../src/lib/store/types.js";

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

function matches(p: StoredPoint, tenant: string, f: SearchFilter = {}): boolean {
  const q = p.payload;
  return (
    q.tenant === tenant &&
    (!f.kind || q.kind === f.kind) &&
    (!f.imageIds || f.imageIds.includes(q.imageId)) &&
    (f.minArea === undefined || q.area >= f.minArea) &&
    (!f.metadata || matchesMetadata(q.metadata, f.metadata))
  );
}

export class MemoryVectorStore implements VectorStore {
  readonly points = new Map<string, StoredPoint>();

  async upsert(tenant: string, points: StoredPoint[]): Promise<void> {
    for (const p of points) {
      if (p.payload.tenant !== tenant) throw new Error("tenant mismatch");
      this.points.set(`${tenant}/${p.id}`, structuredClone(p));
    }
  }

  async deleteImage(
    tenant: string,
    imageId: string,
    keepIds: readonly string[] = [],
  ): Promise<void> {
    for (const [k, p] of this.points) {
      if (p.payload.tenant === tenant && p.payload.imageId === imageId && !keepIds.includes(p.id))
        this.points.delete(k);
    }
  }

  async replaceImage(tenant: string, imageId: string, points: StoredPoint[]): Promise<void> {
    if (points.some((p) => p.payload.imageId !== imageId)) throw new Error("image mismatch");
    await this.upsert(tenant, points);
    await this.deleteImage(
      tenant,
      imageId,
      points.map((p) => p.id),
    );
  }

  async search(tenant: string, vector: Float32Array, o: SearchOptions): Promise<SearchHit[]> {
    const hits = [...this.points.values()]
      .filter((p) => matches(p, tenant, o.filter))
      .map((p) => ({ id: p.id, score: cosine(vector, p.vector), payload: p.payload }))
      .sort((a, b) => b.score - a.score);
    const seen = new Set<string>();
    const grouped = o.groupByImage
      ? hits.filter((h) => !seen.has(h.payload.imageId) && seen.add(h.payload.imageId))
      : hits;
    return grouped.slice(0, o.limit);
  }

  async get(tenant: string, id: string, withVector = false): Promise<StoredPoint | null> {
    const p = this.points.get(`${tenant}/${id}`);
    return p ? { ...p, vector: withVector ? p.vector : new Float32Array(0) } : null;
  }

  async listImage(tenant: string, imageId: string, withVector = false): Promise<StoredPoint[]> {
    return [...this.points.values()]
      .filter((p) => p.payload.tenant === tenant && p.payload.imageId === imageId)
      .sort((a, b) => a.payload.regionIndex - b.payload.regionIndex)
      .map((p) => ({ ...p, vector: withVector ? p.vector : new Float32Array(0) }));
  }

  async count(tenant: string, filter?: SearchFilter): Promise<number> {
    return [...this.points.values()].filter((p) => matches(p, tenant, filter)).length;
  }

  async setImageFields(tenant: string, imageId: string, fields: ImageFields): Promise<void> {
    for (const p of this.points.values()) {
      if (p.payload.tenant !== tenant || p.payload.imageId !== imageId) continue;
      const { name: _n, ...rest } = p.payload;
      p.payload = {
        ...rest,
        ...(fields.name === undefined ? {} : { name: fields.name }),
        metadata: structuredClone(fields.metadata),
      };
    }
  }

  async scan(tenant: string, o: ScanOptions): Promise<StoredPoint[]> {
    return [...this.points.values()]
      .filter((p) => p.payload.tenant === tenant && (o.after === undefined || p.id > o.after))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, o.limit)
      .map((p) => structuredClone(p));
  }
}
