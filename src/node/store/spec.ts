/**
 * Vector stores named on a command line: `embedded:<dir>` (a LanceDB directory, e.g. ./data/vectors)
 * or `qdrant:<url>/<collection>` (e.g. qdrant:http://localhost:6333/regions; the collection may be an
 * alias). Used by `region-search copy-index`.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import {
  createQdrantStore,
  existingDimension,
  qdrantClient,
  resolveOptions,
} from "../../lib/store/qdrant/index.js";
import type { VectorStore } from "../../lib/store/types.js";
import { LanceVectorStore } from "./lance.js";

export type VectorStoreSpec =
  { kind: "embedded"; dir: string } | { kind: "qdrant"; url: string; collection: string };

/** Parses a spec; throws with the accepted forms when it is neither. */
export function parseVectorStoreSpec(spec: string): VectorStoreSpec {
  const forms = "expected embedded:<dir> or qdrant:<url>/<collection>";
  const colon = spec.indexOf(":");
  const kind = spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  if (colon < 0 || !rest) throw new Error(`bad store "${spec}": ${forms}`);
  if (kind === "embedded") return { kind, dir: path.resolve(rest) };
  if (kind !== "qdrant") throw new Error(`bad store "${spec}": ${forms}`);
  let url: URL;
  try {
    url = new URL(rest);
  } catch {
    throw new Error(`bad store "${spec}": ${forms}`);
  }
  // The last path segment is the collection; anything before it is a proxy prefix of the Qdrant URL.
  const segments = url.pathname.split("/").filter(Boolean);
  const collection = segments.pop();
  if (!collection) throw new Error(`bad store "${spec}": no collection after the URL (${forms})`);
  url.pathname = segments.join("/");
  return { kind, url: url.href.replace(/\/$/, ""), collection };
}

/** Where a spec lives, for messages (never the API key). */
export function describeSpec(s: VectorStoreSpec): string {
  return s.kind === "embedded"
    ? `embedded store ${s.dir}`
    : `Qdrant collection "${s.collection}" at ${s.url}`;
}

/**
 * Opens a store to read from. It must exist: reading an empty store the open call just created
 * would "succeed" and copy nothing.
 */
export async function openSource(s: VectorStoreSpec, apiKey?: string): Promise<VectorStore> {
  if (s.kind === "embedded") {
    const found = await stat(s.dir).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (!found) throw new Error(`no ${describeSpec(s)}: the directory does not exist`);
    return LanceVectorStore.open({ dir: s.dir });
  }
  const o = resolveOptions({ url: s.url, apiKey, collection: s.collection, dim: 1 });
  const dim = await existingDimension(qdrantClient(o), o);
  if (dim === null) throw new Error(`no ${describeSpec(s)}`);
  return createQdrantStore({ url: s.url, apiKey, collection: s.collection, dim });
}

/** Opens (creating if needed) a store to write `dim`-dimensional vectors to. */
export async function openTarget(
  s: VectorStoreSpec,
  dim: number,
  apiKey?: string,
): Promise<VectorStore> {
  if (s.kind === "embedded") return LanceVectorStore.open({ dir: s.dir });
  return createQdrantStore({ url: s.url, apiKey, collection: s.collection, dim });
}
