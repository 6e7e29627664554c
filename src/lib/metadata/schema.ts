/**
 * User metadata and names (docs/search.md#metadata): what an image may carry, checked once at the
 * API. A flat object of strings, finite numbers, booleans and arrays of strings; keys are
 * identifiers, so they name the same field in every store (a Qdrant payload path, a LanceDB term).
 */
import { z } from "@hono/zod-openapi";
import type { Metadata, MetadataValue } from "../store/types.js";

export const METADATA_LIMITS = Object.freeze({
  /** Keys per image. */
  maxKeys: 64,
  /** The metadata object as compact JSON, UTF-8 bytes. */
  maxBytes: 8 * 1024,
  /** Characters of one string value (or one array item). */
  maxStringChars: 1024,
  /** Items of one string array. */
  maxArrayItems: 64,
  /** Characters of an image's name. */
  maxNameChars: 256,
});

/** An identifier: a letter or `_`, then letters, digits, `_`; at most 64 characters. */
export const METADATA_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const KEY_RULE = "a key must be 1–64 characters of [A-Za-z0-9_], not starting with a digit";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** No lone surrogate: the text survives UTF-8 (every store's encoding) unchanged. */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    // Lone surrogates do not survive UTF-8 storage: refused rather than silently altered.
    .refine((s) => isWellFormedText(s), "must be well-formed Unicode");

const ValueSchema = z.union([
  text(METADATA_LIMITS.maxStringChars),
  z.number().refine(Number.isFinite, "must be a finite number"),
  z.boolean(),
  z
    .array(text(METADATA_LIMITS.maxStringChars))
    .max(METADATA_LIMITS.maxArrayItems, `must have at most ${METADATA_LIMITS.maxArrayItems} items`),
]);

export const MetadataSchema = z
  .record(z.string().regex(METADATA_KEY, KEY_RULE), ValueSchema)
  .superRefine((m, ctx) => {
    if (Object.keys(m).length > METADATA_LIMITS.maxKeys)
      ctx.addIssue({
        code: "custom",
        message: `must have at most ${METADATA_LIMITS.maxKeys} keys`,
      });
    if (jsonBytes(m) > METADATA_LIMITS.maxBytes)
      ctx.addIssue({
        code: "custom",
        message: `must be at most ${METADATA_LIMITS.maxBytes} bytes as JSON`,
      });
  })
  .openapi("Metadata", {
    description:
      `Your fields: strings, numbers, booleans, arrays of strings; at most ${METADATA_LIMITS.maxKeys} keys ` +
      `(${KEY_RULE}) and ${METADATA_LIMITS.maxBytes} bytes as JSON`,
    example: { sku: "A-1001", price: 19.5, tags: ["red", "summer"], inStock: true },
  });

export const NameSchema = text(METADATA_LIMITS.maxNameChars)
  .trim()
  .min(1, "must not be empty")
  .openapi({ description: "Display name; the file name by default", example: "red-dress.jpg" });

/** A PATCH of metadata: JSON merge patch (RFC 7396): a key set to null is removed. */
export const MetadataPatchSchema = z
  .record(z.string().regex(METADATA_KEY, KEY_RULE), ValueSchema.nullable())
  .openapi({
    description: "Keys to set; a key set to null is removed (JSON merge patch)",
    example: { price: 17.9, tags: null },
  });

/** `current` with `patch` merged in (RFC 7396 on a flat object); the result is re-checked by the caller. */
export function mergeMetadata(
  current: Metadata,
  patch: Record<string, MetadataValue | null>,
): Metadata {
  const out: Metadata = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}
