/** Test helpers: the bundled pack's folder and throw-away (broken) copies of it. */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { digestFile } from "../../src/node/models/pack-files.js";

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

/**
 * A pack folder around an exported segmenter: `segmenterDir` holds the ONNX files named by
 * `section` (a manifest `segmenter` object, e.g. infra/models/export's `segmenter.json`); the
 * embedder and tokenizer are the bundled pack's (symlinked). The manifest's file list is sealed
 * (external-data files included).
 */
export async function packWithSegmenter(
  segmenterDir: string,
  section: { [k: string]: unknown },
  name: string,
): Promise<string> {
  const bundled = JSON.parse(await readFile(path.join(PACK_DIR, "manifest.json"), "utf8"));
  const files: { path: string; bytes: number; sha256: string }[] = [];
  const segFiles = ["encoder", "decoder", "batchedDecoder"].flatMap((k) => {
    const spec = section[k] as { file: string; externalData?: string[] } | undefined;
    return spec ? [spec.file, ...(spec.externalData ?? [])] : [];
  });
  const embFiles = [
    bundled.tokenizer.file as string,
    ...Object.values(bundled.embedder).flatMap((v) =>
      v && typeof v === "object" && "file" in v ? [(v as { file: string }).file] : [],
    ),
  ];
  for (const f of new Set(embFiles)) {
    await rm(path.join(segmenterDir, f), { force: true });
    await symlink(path.join(PACK_DIR, f), path.join(segmenterDir, f));
  }
  for (const f of [...new Set([...segFiles, ...embFiles])]) {
    const { bytes, sha256 } = await digestFile(path.join(segmenterDir, f)); // streamed: a ViT-H .data file is > 2 GiB
    files.push({ path: f, bytes, sha256 });
  }
  const manifest = {
    format: bundled.format,
    name,
    version: "0.0.0",
    segmenter: section,
    embedder: bundled.embedder,
    tokenizer: bundled.tokenizer,
    files,
  };
  await writeFile(path.join(segmenterDir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return segmenterDir;
}
