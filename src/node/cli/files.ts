/**
 * `ingest` arguments → image files: plain files as given, folders walked recursively, anything else
 * treated as a glob. Only PNG, JPEG and WebP by extension are picked from folders and globs; a file
 * named explicitly is always tried (the server judges its bytes).
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { glob } from "tinyglobby";
import { ACCEPTED_FORMATS, isAcceptedFormat, sniffFormat } from "../../lib/intake/index.js";

const IMAGE_EXT = /\.(png|jpe?g|webp)$/i;

export async function expandInputs(
  inputs: readonly string[],
): Promise<{ files: string[]; missing: string[] }> {
  const found = new Set<string>();
  const missing: string[] = [];
  for (const input of inputs) {
    const kind = await statKind(input);
    if (kind === "file") found.add(path.resolve(input));
    else if (kind === "dir")
      for (const f of await glob("**/*", { cwd: input, absolute: true, onlyFiles: true }))
        addImage(found, f);
    else {
      const matches = await glob(input, { absolute: true, onlyFiles: true });
      if (matches.length === 0) missing.push(input);
      for (const f of matches) addImage(found, f);
    }
  }
  return { files: [...found].sort(), missing };
}

function addImage(found: Set<string>, file: string): void {
  if (IMAGE_EXT.test(file)) found.add(path.resolve(file));
}

async function statKind(p: string): Promise<"file" | "dir" | null> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : null;
  } catch {
    return null;
  }
}

/** Content type from the magic bytes, as the server decides it (the one intake sniffer); null for anything else. */
export function contentTypeOf(bytes: Uint8Array): string | null {
  const format = sniffFormat(bytes);
  return isAcceptedFormat(format) ? ACCEPTED_FORMATS[format] : null;
}
