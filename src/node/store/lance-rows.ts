/**
 * LanceDB row layout of a point, and safe SQL for its filters.
 *
 * Filterable facts are columns (tenant, image_id, kind, region_index, area) so LanceDB can prefilter
 * and scalar-index them; everything else of the payload (bbox, scores, mask RLE, pack, sizes, time)
 * rides along as one JSON string. User metadata has its own columns (lance-metadata.ts). Column names are snake_case: the SQL layer folds unquoted
 * identifiers to lower case.
 */
import { Field, FixedSizeList, Float32, Float64, Int32, Schema, Utf8 } from "apache-arrow";
import { assertSafeId } from "../../lib/safe-ids.js";
import { isPointId } from "../../lib/store/ids.js";
import type {
  Metadata,
  PointKind,
  PointPayload,
  SearchFilter,
  StoredPoint,
} from "../../lib/store/types.js";
import {
  METADATA_FIELDS,
  metadataColumns,
  metadataFilterSql,
  type MetadataColumns,
} from "./lance-metadata.js";

// A type alias, not an interface: LanceDB's `Data` wants rows assignable to Record<string, unknown>.
export type PointRow = {
  id: string;
  tenant: string;
  image_id: string;
  kind: string;
  region_index: number;
  area: number;
  vector?: number[] | Float32Array | { toArray(): Float32Array };
  payload: string;
  _distance?: number;
} & Partial<Omit<MetadataColumns, "meta_terms" | "meta_num_keys" | "meta_num_vals">> & {
    meta_terms?: unknown;
    meta_num_keys?: unknown;
    meta_num_vals?: unknown;
  };

type Extra = Omit<
  PointPayload,
  "tenant" | "imageId" | "kind" | "regionIndex" | "area" | "name" | "metadata"
>;

export function pointSchema(dim: number): Schema {
  return new Schema([
    new Field("id", new Utf8(), false),
    new Field("tenant", new Utf8(), false),
    new Field("image_id", new Utf8(), false),
    new Field("kind", new Utf8(), false),
    new Field("region_index", new Int32(), false),
    new Field("area", new Float64(), false),
    new Field("vector", new FixedSizeList(dim, new Field("item", new Float32(), true)), false),
    new Field("payload", new Utf8(), false),
    ...METADATA_FIELDS,
  ]);
}

/** Columns of a row without its vector (reads that do not need it skip the largest column). */
export const COLUMNS_NO_VECTOR = [
  "id",
  "tenant",
  "image_id",
  "kind",
  "region_index",
  "area",
  "payload",
  "name",
  "metadata",
];

export function toRow(p: StoredPoint): PointRow {
  const { tenant, imageId, kind, regionIndex, area, name, metadata, ...extra } = p.payload;
  return {
    ...metadataColumns({ ...(name === undefined ? {} : { name }), metadata }),
    id: p.id,
    tenant,
    image_id: imageId,
    kind,
    region_index: regionIndex,
    area,
    vector: Array.from(p.vector),
    payload: JSON.stringify(extra satisfies Extra),
  };
}

export function fromRow(row: PointRow): StoredPoint {
  const extra = JSON.parse(row.payload) as Extra;
  return {
    id: row.id,
    vector: vectorOf(row.vector),
    payload: {
      ...extra,
      tenant: row.tenant,
      imageId: row.image_id,
      kind: row.kind as PointKind,
      regionIndex: Number(row.region_index),
      area: Number(row.area),
      ...(typeof row.name === "string" ? { name: row.name } : {}),
      ...(typeof row.metadata === "string"
        ? { metadata: JSON.parse(row.metadata) as Metadata }
        : {}),
    },
  };
}

function vectorOf(v: PointRow["vector"]): Float32Array {
  if (!v) return new Float32Array(0);
  if (v instanceof Float32Array) return v;
  if (Array.isArray(v)) return Float32Array.from(v);
  return Float32Array.from(v.toArray());
}

/** A SQL string literal. Ids are validated upstream; quoting is still done right, never trusted. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function sqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return String(value);
}

export function tenantClause(tenant: string): string {
  return `tenant = ${sqlString(assertSafeId(tenant, "tenant"))}`;
}

export function imageClause(imageId: string): string {
  return `image_id = ${sqlString(assertSafeId(imageId, "image id"))}`;
}

export function idListClause(column: "id" | "image_id", values: readonly string[]): string {
  const check = column === "id" ? assertPointId : (v: string) => assertSafeId(v, "image id");
  return `${column} IN (${values.map((v) => sqlString(check(v))).join(", ")})`;
}

export function assertPointId(id: string): string {
  if (!isPointId(id)) throw new Error(`invalid point id: ${JSON.stringify(id.slice(0, 64))}`);
  return id;
}

/** `WHERE` of a filtered read; `null` when the filter can match nothing (empty imageIds). */
export function filterWhere(tenant: string, filter: SearchFilter = {}): string | null {
  const parts = [tenantClause(tenant)];
  if (filter.kind) parts.push(`kind = ${sqlString(filter.kind === "image" ? "image" : "region")}`);
  if (filter.imageIds) {
    if (filter.imageIds.length === 0) return null;
    parts.push(idListClause("image_id", filter.imageIds));
  }
  if (filter.minArea !== undefined) parts.push(`area >= ${sqlNumber(filter.minArea)}`);
  if (filter.metadata) parts.push(`(${metadataFilterSql(filter.metadata)})`);
  return parts.join(" AND ");
}
