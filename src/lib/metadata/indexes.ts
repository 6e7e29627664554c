/**
 * `METADATA_INDEXES`: the metadata keys an operator declares, with their types, e.g.
 * `category:keyword,price:float,taken:datetime,inStock:bool`. Qdrant gets a payload index on each
 * (`metadata.<key>`, src/lib/store/qdrant/metadata.ts); the search page offers a filter input for
 * each. Types: keyword (strings and string arrays), integer, float, bool, datetime.
 */
import { z } from "zod";
import {
  METADATA_INDEX_TYPES,
  type MetadataIndex,
  type MetadataIndexType,
} from "../store/qdrant/metadata.js";
import { METADATA_KEY } from "./schema.js";

const TYPES = Object.keys(METADATA_INDEX_TYPES) as MetadataIndexType[];

export function parseMetadataIndexes(text: string): MetadataIndex[] {
  const out: MetadataIndex[] = [];
  for (const item of text.split(/[\s,]+/).filter(Boolean)) {
    const [key = "", type = "keyword", ...rest] = item.split(":");
    if (!METADATA_KEY.test(key) || rest.length > 0)
      throw new Error(`"${item}" is not key:type with a metadata key ([A-Za-z0-9_], 1–64)`);
    if (!TYPES.includes(type as MetadataIndexType))
      throw new Error(`"${item}": type must be one of ${TYPES.join(", ")}`);
    if (out.some((i) => i.key === key)) throw new Error(`"${key}" is declared twice`);
    out.push({ key, type: type as MetadataIndexType });
  }
  return out;
}

export const metadataIndexFields = {
  METADATA_INDEXES: z
    .string()
    .default("")
    .transform((text, ctx) => {
      try {
        return parseMetadataIndexes(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    }),
};
