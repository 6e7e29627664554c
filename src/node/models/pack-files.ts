/**
 * Check every file a pack manifest lists (size + sha256), hashing each chunk by chunk so that no file
 * is ever read whole into memory for the check: ONNX external-data files exceed 2 GiB (Node's
 * `readFile` limit) and must not be held in memory at all — onnxruntime reads them itself.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import path from "node:path";
import type { Manifest } from "./manifest.js";

/** Bytes per read: big enough that syscalls do not dominate, small enough to be nothing in memory. */
const CHUNK_BYTES = 1 << 20;

export interface FileDigest {
  bytes: number;
  sha256: string;
  /** The file's content, only for the paths the caller asked to keep. */
  content?: Uint8Array;
}

/**
 * sha256 and size of one file, read in chunks; `keep` also returns its content from the same read.
 * Plain positioned reads rather than an fs ReadStream: a kept file goes straight into one buffer
 * of its size (no chunk list to concatenate), which keeps the bundled pack's load as fast as the
 * old whole-file `readFile` (docs/model-pack.md gives the figures).
 */
export async function digestFile(file: string, keep = false): Promise<FileDigest> {
  const handle = await open(file, "r");
  try {
    const hash = createHash("sha256");
    const content = keep ? Buffer.allocUnsafe((await handle.stat()).size) : null;
    const scratch = content ? null : Buffer.allocUnsafe(CHUNK_BYTES);
    let bytes = 0;
    for (;;) {
      if (content && bytes === content.length) break;
      const into = content ? content.subarray(bytes, bytes + CHUNK_BYTES) : scratch!;
      const { bytesRead } = await handle.read(into, 0, into.length, bytes);
      if (bytesRead === 0) break;
      hash.update(into.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    const digest: FileDigest = { bytes, sha256: hash.digest("hex") };
    if (content) digest.content = content.subarray(0, bytes);
    return digest;
  } finally {
    await handle.close();
  }
}

export interface CheckedFiles {
  /** Absolute path of every listed file, by manifest path. */
  paths: Map<string, string>;
  /** Content of the files named in `keep`, by manifest path. */
  contents: Map<string, Uint8Array>;
}

/**
 * Check size and sha256 of every file in `manifest.files` (all problems reported together, each
 * naming its file); returns their absolute paths and the content of those in `keep`.
 */
export async function checkPackFiles(dir: string, manifest: Manifest, keep: ReadonlySet<string>, where: string): Promise<CheckedFiles> {
  const paths = new Map<string, string>();
  const contents = new Map<string, Uint8Array>();
  const problems: string[] = [];
  const root = path.resolve(dir);
  for (const entry of manifest.files) {
    const full = path.resolve(root, entry.path);
    if (!full.startsWith(root + path.sep)) {
      problems.push(`${entry.path}: path leaves the pack folder`);
      continue;
    }
    let digest: FileDigest;
    try {
      digest = await digestFile(full, keep.has(entry.path));
    } catch (err) {
      problems.push(`${entry.path}: listed in the manifest but cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    if (digest.bytes !== entry.bytes) problems.push(`${entry.path}: ${digest.bytes} bytes, manifest says ${entry.bytes}`);
    if (digest.sha256 !== entry.sha256) problems.push(`${entry.path}: sha256 ${digest.sha256}, manifest says ${entry.sha256}`);
    paths.set(entry.path, full);
    if (digest.content) contents.set(entry.path, digest.content);
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}`);
  return { paths, contents };
}
