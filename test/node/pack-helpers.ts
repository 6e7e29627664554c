/** Test helpers: the bundled pack's folder and throw-away (broken) copies of it. */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export const PACK_DIR = path.resolve(import.meta.dirname, "../../models/shapes-tiny");

/**
 * A temp copy of the bundled pack: files are symlinks (fast), `manifest.json` is a real copy that
 * `edit` may change. `replaceFile` swaps one file's bytes; `reseal` rewrites the manifest's
 * `files` list to match (so only the intended breakage remains).
 */
export async function packCopy(): Promise<{
  dir: string;
  manifest: Record<string, unknown> & { files: { path: string; bytes: number; sha256: string }[] };
  write(): Promise<void>;
  replaceFile(name: string, bytes: Uint8Array): Promise<void>;
  removeFile(name: string): Promise<void>;
  reseal(): Promise<void>;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), "pack-"));
  for (const name of await readdir(PACK_DIR)) {
    if (name !== "manifest.json") await symlink(path.join(PACK_DIR, name), path.join(dir, name));
  }
  const manifest = JSON.parse(await readFile(path.join(PACK_DIR, "manifest.json"), "utf8"));
  const copy = {
    dir,
    manifest,
    write: () => writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest)),
    async replaceFile(name: string, bytes: Uint8Array) {
      await rm(path.join(dir, name));
      await writeFile(path.join(dir, name), bytes);
    },
    removeFile: (name: string) => rm(path.join(dir, name)),
    async reseal() {
      for (const f of manifest.files) {
        const bytes = await readFile(path.join(dir, f.path));
        f.bytes = bytes.length;
        f.sha256 = createHash("sha256").update(bytes).digest("hex");
      }
      await copy.write();
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  await copy.write();
  return copy;
}
