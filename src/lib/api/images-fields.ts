/**
 * An image's user fields — `name` and `metadata` (docs/search.md#metadata) — as uploads give them,
 * and how they reach the stored points. Multipart uploads carry them as text fields (`metadata` a
 * JSON string); the file name is the default name. A JSON (URL) upload has them as body keys.
 */
import { ApiError, validationError } from "../errors.js";
import { userFields } from "../ingest.js";
import { MetadataSchema, NameSchema } from "../metadata/index.js";
import type { ImageRecord } from "../services.js";
import type { ImageFields, Metadata } from "../store/types.js";
import type { TenantScope } from "../tenant-scope.js";
import type { UploadFields } from "./upload.js";

export interface ImageUserFields {
  name?: string;
  metadata?: Metadata;
}

/** Multipart text fields → checked user fields; a bad one is a 400 naming the key. */
export function parseUploadFields(fields: UploadFields): ImageUserFields {
  const out: ImageUserFields = {};
  const name = fields.name ?? fields.fileName;
  if (name !== undefined) {
    const parsed = NameSchema.safeParse(name);
    // A file name the rules refuse (too long, say) is dropped; a `name` field given so is an error.
    if (parsed.success) out.name = parsed.data;
    else if (fields.name !== undefined) throw validationError(parsed.error, "name");
  }
  if (fields.metadata !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(fields.metadata);
    } catch {
      throw ApiError.invalid(
        "metadata: must be a JSON object (the multipart field holds JSON text)",
      );
    }
    const parsed = MetadataSchema.safeParse(raw);
    if (!parsed.success) throw validationError(parsed.error, "metadata");
    out.metadata = parsed.data;
  }
  return out;
}

/** What the points of a record carry (ImageFields): its name and metadata, `{}` when none. */
export const recordFields = userFields;

export function sameFields(a: ImageFields, b: ImageFields): boolean {
  return a.name === b.name && JSON.stringify(a.metadata) === JSON.stringify(b.metadata);
}

/**
 * Stores new user fields: the record first (the source of truth), then every point of the image
 * (`setImageFields`, no re-embedding). A failure in between leaves the points behind the record;
 * the same PATCH retried repairs it, and a re-index copies the record's fields anew.
 */
export async function writeImageFields(
  scope: TenantScope,
  record: ImageRecord,
  fields: ImageFields,
): Promise<ImageRecord> {
  const { name: _n, metadata: _m, tenant: _t, ...rest } = record;
  const next = await scope.putImage({
    ...rest,
    ...(fields.name === undefined ? {} : { name: fields.name }),
    metadata: fields.metadata,
    updatedAt: new Date().toISOString(),
  });
  await scope.setImageFields(record.id, fields);
  return next;
}
