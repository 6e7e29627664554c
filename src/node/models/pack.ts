/**
 * Load a model pack folder: manifest → files (size + streamed sha256) → tokenizer → sessions, each session
 * checked against the manifest. Anything wrong is refused with one error naming the pack, the file,
 * the tensor and what was expected, e.g.
 * `model pack models/x: segmenter-decoder.onnx: input "point_labels" missing (has: …)`.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import { resolveAmgParams, type AmgParams } from "../../lib/amg/params.js";
import { MODEL_ROLES, modelSpecs, parseManifest, storedVectorDim, type Manifest, type ModelRole, type ModelSpec } from "./manifest.js";
import { checkPackFiles, type CheckedFiles } from "./pack-files.js";
import { createSession, sessionMismatches, type SessionOptions } from "./session.js";
import { createPackTokenizer, type PackTokenizer } from "./tokenizer.js";

export interface LoadPackOptions {
  /** onnxruntime thread settings shared by every session. */
  session?: SessionOptions;
  /**
   * Which models get a session (a list, or a function of the manifest). Default: every model the
   * manifest lists except `clipText`, and `clipImage` unless the pack's views use it (then only
   * benchmarks need it). All files are still checked.
   */
  roles?: readonly ModelRole[] | ((manifest: Manifest) => readonly ModelRole[]);
}

export interface ModelPack {
  /** The folder as given. */
  readonly dir: string;
  readonly manifest: Manifest;
  /**
   * `name@version`: names the vector space too (points of different packs are not comparable), so a
   * pack that changes its views or weights must change its version.
   */
  readonly id: string;
  /** Length of a stored vector (`storedVectorDim`): what the vector store is created with. */
  readonly vectorDim: number;
  /** One session per loaded role, created once and shared by every call. */
  readonly sessions: Readonly<Partial<Record<ModelRole, InferenceSession>>>;
  readonly tokenizer: PackTokenizer;
  /** SAM's AMG defaults merged with the manifest's `segmenter.amg`. */
  readonly amg: AmgParams;
  /** Release every session. */
  release(): Promise<void>;
}

/** The roles ingestion runs: the segmenter, Alpha-CLIP's image tower, and CLIP's for a detail view. */
export function extractionRoles(manifest: Manifest): ModelRole[] {
  const roles: ModelRole[] = ["encoder", "decoder", "batchedDecoder", "image", ...(manifest.embedder.views ? (["clipImage"] as const) : [])];
  return roles.filter((r) => modelSpecs(manifest)[r] !== undefined);
}

function defaultRoles(manifest: Manifest): ModelRole[] {
  const skipped: ModelRole[] = manifest.embedder.views ? ["clipText"] : ["clipImage", "clipText"];
  return (Object.keys(MODEL_ROLES) as ModelRole[]).filter((r) => !skipped.includes(r));
}

export async function loadModelPack(dir: string, options: LoadPackOptions = {}): Promise<ModelPack> {
  const where = `model pack ${dir}`;
  const manifest = parseManifest(await readJson(path.join(dir, "manifest.json"), where), where);
  const files = await checkPackFiles(dir, manifest, filesKeptInMemory(manifest), where);
  let amg: AmgParams;
  try {
    amg = resolveAmgParams(manifest.segmenter.amg);
  } catch (err) {
    throw new Error(`${where}: segmenter.amg: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const tokenizerJson = parseJsonBytes(files.contents.get(manifest.tokenizer.file)!, `${where}: ${manifest.tokenizer.file}`);
  const tokenizer = createPackTokenizer(tokenizerJson, manifest.tokenizer, `${where}: ${manifest.tokenizer.file}`);
  const sessions = await createSessions(manifest, files, options, where);
  return {
    dir,
    manifest,
    id: `${manifest.name}@${manifest.version}`,
    vectorDim: storedVectorDim(manifest),
    sessions,
    tokenizer,
    amg,
    async release() {
      await Promise.all(Object.values(sessions).map((s) => s.release()));
    },
  };
}

/**
 * The files whose content the loader needs: the tokenizer and every model without external data
 * (its session is created from bytes, so the bytes checked are the bytes run). A model with
 * external data is opened from its path, its weights never pass through JavaScript.
 */
function filesKeptInMemory(manifest: Manifest): Set<string> {
  const models = Object.values(modelSpecs(manifest)).filter((s) => !s.externalData).map((s) => s.file);
  return new Set([manifest.tokenizer.file, ...models]);
}

/** What onnxruntime opens for a model: its checked bytes, or its path when it has external data. */
function sessionSource(spec: ModelSpec, files: CheckedFiles): Uint8Array | string {
  return spec.externalData ? files.paths.get(spec.file)! : files.contents.get(spec.file)!;
}

/** One session per requested role, each checked against its spec. */
async function createSessions(
  manifest: Manifest,
  files: CheckedFiles,
  options: LoadPackOptions,
  where: string,
): Promise<Partial<Record<ModelRole, InferenceSession>>> {
  const specs = modelSpecs(manifest);
  const wanted = typeof options.roles === "function" ? options.roles(manifest) : (options.roles ?? defaultRoles(manifest));
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
        session = await createSession(sessionSource(spec, files), options.session);
      } catch (err) {
        const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
        const hint = !spec.externalData && /external data/i.test(reason ?? "") ? " (list its weights file in the model's externalData)" : "";
        problems.push(`${spec.file}: onnxruntime cannot load it: ${reason}${hint}`);
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
