/**
 * `region-search pack info <dir>`: load a model pack the way the server does — manifest schema,
 * every file's size and sha256, tokenizer, and an onnxruntime session for every model the manifest
 * lists, each checked against its tensor specs — then describe it. A bad pack throws the loader's
 * error, which names the file and tensor at fault.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  modelSpecs,
  parseManifest,
  type Manifest,
  type ModelRole,
  type TensorSpec,
} from "../models/manifest.js";
import { loadModelPack } from "../models/pack.js";
import { formatBytes, formatTable } from "./table.js";

export interface PackInfo {
  id: string;
  dir: string;
  description?: string;
  files: { path: string; bytes: number; sha256: string }[];
  totalBytes: number;
  models: { role: ModelRole; file: string; inputs: TensorSpec[]; outputs: TensorSpec[] }[];
  segmenter: { imageSize: number; batchedDecoder: boolean };
  embedder: {
    imageSize: number;
    embedDim: number;
    vectorDim: number;
    views: Manifest["embedder"]["views"] | null;
  };
  tokenizer: Manifest["tokenizer"];
}

export async function packInfo(dir: string): Promise<PackInfo> {
  const where = `model pack ${dir}`;
  const manifest = parseManifest(await readManifestJson(dir, where), where);
  const specs = modelSpecs(manifest);
  const roles = Object.keys(specs) as ModelRole[];
  // Every listed model, baselines included: `pack info` is the place to find a broken one.
  const pack = await loadModelPack(dir, { roles, session: { intraOpNumThreads: 1 } });
  await pack.release();
  return {
    id: pack.id,
    dir,
    ...(manifest.description ? { description: manifest.description } : {}),
    files: manifest.files,
    totalBytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
    models: roles.map((role) => ({
      role,
      file: specs[role]!.file,
      inputs: specs[role]!.inputs,
      outputs: specs[role]!.outputs,
    })),
    segmenter: {
      imageSize: manifest.segmenter.imageSize,
      batchedDecoder: !!manifest.segmenter.batchedDecoder,
    },
    embedder: {
      imageSize: manifest.embedder.imageSize,
      embedDim: manifest.embedder.embedDim,
      vectorDim: pack.vectorDim,
      views: manifest.embedder.views ?? null,
    },
    tokenizer: manifest.tokenizer,
  };
}

async function readManifestJson(dir: string, where: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path.join(dir, "manifest.json"), "utf8");
  } catch (err) {
    throw new Error(
      `${where}: cannot read manifest.json (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      { cause: err },
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: manifest.json is not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
}

function formatModel(m: PackInfo["models"][number]): string {
  const rows: [string, TensorSpec][] = [
    ...m.inputs.map((t): [string, TensorSpec] => ["in", t]),
    ...m.outputs.map((t): [string, TensorSpec] => ["out", t]),
  ];
  const table = formatTable(
    ["", "tensor", "dtype", "shape"],
    rows.map(([dir, t]) => [dir, t.name, t.dtype, `[${t.shape.join(", ")}]`]),
  );
  // Drop the header and rule: the role line above says what the table is.
  return [
    `  ${m.role} — ${m.file}`,
    ...table
      .split("\n")
      .slice(2)
      .map((l) => `    ${l}`),
  ].join("\n");
}

function formatViews({ vectorDim, views }: PackInfo["embedder"]): string {
  if (!views) return `stored vectors ${vectorDim}-d (Alpha-CLIP only)`;
  const relation = views.context.relationWords?.length
    ? `, relational queries on context (${views.context.relationWords.join(" ")})`
    : "";
  return `stored vectors ${vectorDim}-d: context ${views.context.weight} + detail ${views.detail.weight} (crop margin ${views.detail.cropMargin})${relation}`;
}

export function formatPackInfo(info: PackInfo): string {
  const out = [`${info.id}  (${info.dir})  — valid`];
  if (info.description) out.push(info.description);
  out.push(
    "",
    `segmenter: ${info.segmenter.imageSize} px input, ${info.segmenter.batchedDecoder ? "batched" : "single-prompt"} decoder`,
    `embedder:  ${info.embedder.imageSize} px input, ${info.embedder.embedDim}-d per view; ${formatViews(info.embedder)}`,
    `tokenizer: ${info.tokenizer.file}, context ${info.tokenizer.contextLength}, bos ${info.tokenizer.bosId} eos ${info.tokenizer.eosId} pad ${info.tokenizer.padId}`,
    "",
    `files (${info.files.length}, ${formatBytes(info.totalBytes)}):`,
    formatTable(
      ["file", "size", "sha256"],
      info.files.map((f) => [f.path, formatBytes(f.bytes), `${f.sha256.slice(0, 16)}…`]),
    ),
    "",
    "models (each loaded in onnxruntime and checked against these specs):",
    ...info.models.map(formatModel),
  );
  return out.join("\n");
}
