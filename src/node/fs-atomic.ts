/**
 * Small file helpers for the embedded stores: atomic replace (write a temp file, fsync, rename) so a
 * crash never leaves a half-written record, and path building that refuses anything but safe ids.
 */
import { randomUUID } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { assertSafeId } from "../lib/safe-ids.js";

/** `root/<seg>/<seg>…`, each segment a safe id (no separators, no `.`/`..`), so it cannot escape root. */
export function safeJoin(root: string, ...segments: string[]): string {
  return path.join(root, ...segments.map((s) => assertSafeId(s, "path segment")));
}

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${randomUUID()}.tmp`;
  const handle = await open(tmp, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === "ENOENT";
}
