/**
 * The vector store over signed HTTP (gateway → query function): `POST /rpc/vectors` with one
 * operation. The gateway's `Services.vectors` is `RemoteVectorStore`, so the public API (written
 * once in src/lib/api) runs unchanged in the Worker while the store itself (Qdrant or embedded)
 * stays behind the query function. The tenant travels in every call and the query function passes
 * it to the store, whose implementations filter by it; only a signed caller can name a tenant.
 */
import { z } from "zod";
import { MetadataFilterSchema, MetadataSchema, NameSchema } from "../metadata/index.js";
import type { SignedClient } from "../webhooks/client.js";
import type {
  ImageFields,
  PointPayload,
  SearchFilter,
  SearchHit,
  SearchOptions,
  StoredPoint,
  VectorStore,
} from "../store/types.js";

export const VECTORS_RPC_PATH = "/rpc/vectors";

const Vector = z.array(z.number()).max(8192);
const Tenant = z.string().min(1).max(128);
const Filter = z.object({
  imageIds: z.array(z.string()).max(1000).optional(),
  kind: z.enum(["region", "image"]).optional(),
  minArea: z.number().optional(),
  metadata: MetadataFilterSchema.optional(),
});
const PointWire = z.object({
  id: z.string(),
  vector: Vector,
  payload: z.custom<PointPayload>((v) => typeof v === "object" && v !== null),
});

export const VectorOp = z.discriminatedUnion("op", [
  z.object({ op: z.literal("upsert"), tenant: Tenant, points: z.array(PointWire).max(10_000) }),
  z.object({
    op: z.literal("deleteImage"),
    tenant: Tenant,
    imageId: z.string(),
    keepIds: z.array(z.string()).optional(),
  }),
  z.object({
    op: z.literal("replaceImage"),
    tenant: Tenant,
    imageId: z.string(),
    points: z.array(PointWire).max(10_000),
  }),
  z.object({
    op: z.literal("search"),
    tenant: Tenant,
    vector: Vector,
    options: z.object({
      limit: z.number().int().min(0).max(10_000),
      filter: Filter.optional(),
      groupByImage: z.boolean().optional(),
      exact: z.boolean().optional(),
    }),
  }),
  z.object({
    op: z.literal("get"),
    tenant: Tenant,
    id: z.string(),
    withVector: z.boolean().optional(),
  }),
  z.object({
    op: z.literal("listImage"),
    tenant: Tenant,
    imageId: z.string(),
    withVector: z.boolean().optional(),
  }),
  z.object({ op: z.literal("count"), tenant: Tenant, filter: Filter.optional() }),
  z.object({
    op: z.literal("setImageFields"),
    tenant: Tenant,
    imageId: z.string(),
    fields: z.object({ name: NameSchema.optional(), metadata: MetadataSchema }),
  }),
]);
export type VectorOp = z.infer<typeof VectorOp>;

type WirePoint = { id: string; vector: number[]; payload: StoredPoint["payload"] };

const toWire = (p: StoredPoint): WirePoint => ({
  id: p.id,
  vector: Array.from(p.vector),
  payload: p.payload,
});
const fromWire = (p: WirePoint): StoredPoint => ({
  id: p.id,
  vector: Float32Array.from(p.vector),
  payload: p.payload,
});

/** Runs one operation on the real store (query function side); the answer is `{result}`. */
export async function runVectorOp(store: VectorStore, op: VectorOp): Promise<{ result: unknown }> {
  switch (op.op) {
    case "upsert":
      await store.upsert(op.tenant, op.points.map(fromWire));
      return { result: null };
    case "deleteImage":
      await store.deleteImage(op.tenant, op.imageId, op.keepIds);
      return { result: null };
    case "replaceImage":
      await store.replaceImage(op.tenant, op.imageId, op.points.map(fromWire));
      return { result: null };
    case "search":
      return { result: await store.search(op.tenant, Float32Array.from(op.vector), op.options) };
    case "get": {
      const point = await store.get(op.tenant, op.id, op.withVector);
      return { result: point ? toWire(point) : null };
    }
    case "listImage":
      return { result: (await store.listImage(op.tenant, op.imageId, op.withVector)).map(toWire) };
    case "count":
      return { result: await store.count(op.tenant, op.filter) };
    case "setImageFields":
      await store.setImageFields(op.tenant, op.imageId, op.fields);
      return { result: null };
  }
}

/** `VectorStore` whose every call is a signed request to the query function. */
export class RemoteVectorStore implements VectorStore {
  constructor(private readonly client: SignedClient) {}

  private async call<T>(op: VectorOp): Promise<T> {
    return (await this.client.postJson<{ result: T }>(VECTORS_RPC_PATH, op)).result;
  }

  async upsert(tenant: string, points: StoredPoint[]): Promise<void> {
    await this.call({ op: "upsert", tenant, points: points.map(toWire) });
  }

  async deleteImage(tenant: string, imageId: string, keepIds?: readonly string[]): Promise<void> {
    await this.call({
      op: "deleteImage",
      tenant,
      imageId,
      ...(keepIds ? { keepIds: [...keepIds] } : {}),
    });
  }

  async replaceImage(tenant: string, imageId: string, points: StoredPoint[]): Promise<void> {
    await this.call({ op: "replaceImage", tenant, imageId, points: points.map(toWire) });
  }

  async search(tenant: string, vector: Float32Array, options: SearchOptions): Promise<SearchHit[]> {
    return this.call({ op: "search", tenant, vector: Array.from(vector), options });
  }

  async get(tenant: string, id: string, withVector?: boolean): Promise<StoredPoint | null> {
    const wire = await this.call<WirePoint | null>({ op: "get", tenant, id, withVector });
    return wire ? fromWire(wire) : null;
  }

  async listImage(tenant: string, imageId: string, withVector?: boolean): Promise<StoredPoint[]> {
    return (await this.call<WirePoint[]>({ op: "listImage", tenant, imageId, withVector })).map(
      fromWire,
    );
  }

  async count(tenant: string, filter?: SearchFilter): Promise<number> {
    return this.call({ op: "count", tenant, filter });
  }

  async setImageFields(tenant: string, imageId: string, fields: ImageFields): Promise<void> {
    await this.call({ op: "setImageFields", tenant, imageId, fields });
  }
}
