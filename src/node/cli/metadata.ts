/**
 * `region-search ingest --metadata <json>` and `--metadata-from <file.json>`: the metadata each
 * uploaded file carries (docs/search.md#metadata). `--metadata` applies to every file;
 * `--metadata-from` holds one object keyed by file path (as given, or resolved) or by base name,
 * whose keys override `--metadata`'s for that file. The server checks the result (limits, keys).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Metadata } from "../../lib/store/types.js";
import { CliError } from "./io.js";

export type MetadataFor = (file: string) => Metadata | undefined;

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new CliError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The per-file metadata the flags give, or undefined when neither was given. */
export async function metadataFlags(o: {
  metadata?: string;
  metadataFrom?: string;
}): Promise<MetadataFor | undefined> {
  if (o.metadata === undefined && o.metadataFrom === undefined) return undefined;
  const common =
    o.metadata === undefined ? {} : object(parseJson(o.metadata, "--metadata"), "--metadata");
  let perFile: Record<string, unknown> = {};
  if (o.metadataFrom !== undefined) {
    let text: string;
    try {
      text = await readFile(o.metadataFrom, "utf8");
    } catch (err) {
      throw new CliError(
        `--metadata-from: cannot read ${o.metadataFrom} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    perFile = object(parseJson(text, `--metadata-from ${o.metadataFrom}`), "--metadata-from");
  }
  const keys = new Map(Object.keys(perFile).map((k) => [path.resolve(k), k]));
  return (file) => {
    const key = [file, keys.get(path.resolve(file)), path.basename(file)].find(
      (k) => k !== undefined && Object.hasOwn(perFile, k),
    );
    const own = key === undefined ? {} : object(perFile[key], `--metadata-from entry "${key}"`);
    return { ...common, ...own } as Metadata;
  };
}
