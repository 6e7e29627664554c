/**
 * Upload intake for POST /v1/images: read the bytes (raw body or multipart field `file`), then the
 * checks after image intake's header check (src/lib/intake `acceptImage`): the services' verifier,
 * or the upload prefetch that verifies and keeps its work for the ingest job.
 */
import type { Context } from "hono";
import { ApiError } from "../errors.js";
import { ACCEPTED_FORMATS } from "../intake/index.js";
import type { AcceptedImage, PrefetchTicket, Services } from "../services.js";

/** The declared content types a raw upload may have; the format itself is sniffed from the bytes. */
const ACCEPTED_CONTENT_TYPES = new Set<string>([...Object.values(ACCEPTED_FORMATS), "image/jpg"]);

/**
 * The check before anything is stored: the prefetch where the services have one (its ticket to file
 * under the ingest job), else the verifier, if any.
 */
export async function checkUpload(
  services: Pick<Services, "verifier" | "prefetch">,
  image: AcceptedImage,
): Promise<PrefetchTicket | undefined> {
  if (services.prefetch) return services.prefetch.accept(image);
  await services.verifier?.verify(image);
  return undefined;
}

/** Multipart text fields beside `file`, unparsed (images-fields.ts checks them), and the file's name. */
export interface UploadFields {
  fileName?: string;
  name?: string;
  metadata?: string;
}

/** The uploaded bytes, from a raw image body or the multipart field `file` (with its other fields). */
export async function readUpload(c: Context): Promise<{ bytes: Uint8Array; fields: UploadFields }> {
  const contentType =
    (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (contentType === "multipart/form-data") return readMultipartFile(c);
  if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
    throw new ApiError(
      "unsupported_media_type",
      "Content-Type must be image/png, image/jpeg, image/webp, multipart/form-data or application/json ({url})",
    );
  }
  return { bytes: new Uint8Array(await c.req.arrayBuffer()), fields: {} };
}

async function readMultipartFile(c: Context): Promise<{ bytes: Uint8Array; fields: UploadFields }> {
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    throw ApiError.invalid("Malformed multipart/form-data body");
  }
  const file = form.get("file");
  if (file === null || typeof file === "string")
    throw ApiError.invalid("Multipart field `file` (a file) is required");
  const fields: UploadFields = {};
  if (file.name) fields.fileName = file.name;
  for (const key of ["name", "metadata"] as const) {
    const value = form.get(key);
    if (value === null) continue;
    if (typeof value !== "string")
      throw ApiError.invalid(`Multipart field \`${key}\` must be text`);
    fields[key] = value;
  }
  return { bytes: new Uint8Array(await file.arrayBuffer()), fields };
}

/** Lower-case hex SHA-256 (Web Crypto, so it runs on Workers too). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
