/**
 * Load a model pack folder: manifest → files (bytes + sha256) → tokenizer → sessions, each session
 * checked against the manifest. Anything wrong is refused with one error naming the pack, the file,
 * the tensor and what was expected, e.g.
 * `model pack models/x: segmenter-decoder.onnx: input "point_labels" missing (has: …)`.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import { resolveAmgParams, type AmgParams } from "../../lib/amg/index.js";
import { MODEL_ROLES, modelSpecs, parseManifest, type Manifest, type ModelRole } from "./manifest.js";
import { createSession, sessionMismatches, type SessionOptions } from "./session.js";
import { createPackTokenizer, type PackTokenizer } from "./tokenizer.js";

export interface LoadPackOptions {
  /** onnxruntime thread settings shared by every session. */
  session?: SessionOptions;
  /**
   * Which models get a session. Default: every model the manifest lists except the plain-CLIP
   * baselines (`clipImage`, `clipText`), which only benchmarks need. All files are still checked.
   */
  roles?: readonly ModelRole[];
}

export interface ModelPack {
  /** The folder as given. */
  readonly dir: string;
  readonly manifest: Manifest;
  /** `name@version`. */
  readonly id: string;
  /** One session per loaded role, created once and shared by every call. */
  readonly sessions: Readonly<Partial<Record<ModelRole, InferenceSession>>>;
  readonly tokenizer: PackTokenizer;
  /** SAM's AMG defaults merged with the manifest's `segmenter.amg`. */
  readonly amg: AmgParams;
  /** Release every session. */
  release(): Promise<void>;
}

const DEFAULT_SKIPPED_ROLES: readonly ModelRole[] = ["clipImage", "clipText"];

export async function loadModelPack(dir: string, options: LoadPackOptions = {}): Promise<ModelPack> {
  const where = `model pack ${dir}`;
  const manifest = parseManifest(await readJson(path.join(dir, "manifest.json"), where), where);
  const files = await readPackFiles(dir, manifest, where);
  let amg: AmgParams;
  try {
    amg = resolveAmgParams(manifest.segmenter.amg);
  } catch (err) {
    throw new Error(`${where}: segmenter.amg: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const tokenizerJson = parseJsonBytes(files.get(manifest.tokenizer.file)!, `${where}: ${manifest.tokenizer.file}`);
  const tokenizer = createPackTokenizer(tokenizerJson, manifest.tokenizer, `${where}: ${manifest.tokenizer.file}`);
  const sessions = await createSessions(manifest, files, options, where);
  return {
    dir,
    manifest,
    id: `${manifest.name}@${manifest.version}`,
    sessions,
    tokenizer,
    amg,
    async release() {
      await Promise.all(Object.values(sessions).map((s) => s.release()));
    },
  };
}

/** Read every listed file, checking size and sha256; all problems are reported together. */
async function readPackFiles(dir: string, manifest: Manifest, where: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const problems: string[] = [];
  const root = path.resolve(dir);
  for (const entry of manifest.files) {
    const full = path.resolve(root, entry.path);
    if (!full.startsWith(root + path.sep)) {
      problems.push(`${entry.path}: path leaves the pack folder`);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(full);
    } catch (err) {
      problems.push(`${entry.path}: listed in the manifest but cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    if (bytes.length !== entry.bytes) problems.push(`${entry.path}: ${bytes.length} bytes, manifest says ${entry.bytes}`);
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (sha !== entry.sha256) problems.push(`${entry.path}: sha256 ${sha}, manifest says ${entry.sha256}`);
    files.set(entry.path, bytes);
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}`);
  return files;
}

/** One session per requested role, each checked against its spec. */
async function createSessions(
  manifest: Manifest,
  files: Map<string, Uint8Array>,
  options: LoadPackOptions,
  where: string,
): Promise<Partial<Record<ModelRole, InferenceSession>>> {
  const specs = modelSpecs(manifest);
  const wanted = options.roles ?? (Object.keys(MODEL_ROLES) as ModelRole[]).filter((r) => !DEFAULT_SKIPPED_ROLES.includes(r));
  const sessions: Partial<Record<ModelRole, InferenceSession>> = {};
  const problems: string[] = [];
  try {
    for (const role of wanted) {
      const spec = specs[role];
      if (!spec) {
        if (options.roles) problems.push(`${role}: requested but the manifest has no such model`);
        continue;
      }
      let session: InferenceSession;
      try {
        session = await createSession(files.get(spec.file)!, options.session);
      } catch (err) {
        problems.push(`${spec.file}: onnxruntime cannot load it: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`);
        continue;
      }
      sessions[role] = session;
      problems.push(...sessionMismatches(session, spec).map((p) => `${spec.file}: ${p}`));
    }
    if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}`);
    return sessions;
  } catch (err) {
    await Promise.all(Object.values(sessions).map((s) => s.release()));
    throw err;
  }
}

async function readJson(file: string, where: string): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`${where}: cannot read ${path.basename(file)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  return parseJsonBytes(bytes, `${where}: ${path.basename(file)}`);
}

function parseJsonBytes(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new Error(`${where}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
