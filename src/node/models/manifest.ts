/**
 * The model-pack manifest (docs/model-pack.md) as a zod schema, plus the cross-field checks that a
 * schema alone cannot express (tensor shapes agreeing with `imageSize`, `embedDim`, …).
 */
import { z } from "zod";

/** A shape entry: an integer (fixed) or a string (dynamic, named). */
const dim = z.union([z.int().min(0), z.string().min(1)]);

const tensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(["float32", "int64", "int32", "float16", "uint8", "int8", "bool"]),
  shape: z.array(dim),
});

/**
 * A file path relative to the pack folder that cannot leave it: `/`-separated, not absolute, no
 * empty, `.` or `..` segment, no backslash (a separator on Windows) and no NUL.
 */
const packRelativePathSchema = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !/[\\\0]/.test(p) && p.split("/").every((s) => s !== "" && s !== "." && s !== ".."), {
    error: (issue) =>
      `${JSON.stringify(issue.input)} must be a path inside the pack folder (relative, '/'-separated, no '..', '.' or empty segments, no backslash)`,
  });

const modelSpecSchema = z.object({
  file: z.string().min(1),
  /**
   * ONNX external-data files of this model (weights kept outside the `.onnx`, needed over 2 GiB),
   * relative to the pack folder and in the model file's folder, as onnxruntime resolves them. Each
   * must be listed in `files` (bytes + sha256). The session is then created from the model's path.
   */
  externalData: z.array(packRelativePathSchema).min(1).optional(),
  inputs: z.array(tensorSpecSchema).min(1),
  outputs: z.array(tensorSpecSchema).min(1),
});

/**
 * The views a region's stored vector is made of (docs/model-pack.md "Views"): `context` is the
 * Alpha-CLIP tower (whole image, alpha = region), `detail` the plain CLIP image tower on a crop of
 * the region's box grown by `cropMargin` × its width / height on each side. Weights sum to 1; a pack
 * without `views` stores the context view alone.
 */
const viewsSchema = z
  .object({
    context: z
      .object({
        weight: z.number().min(0).max(1),
        /**
         * Words that relate the queried object to another ("left", "larger", …): a query holding one
         * is ranked on the context view alone, the only view that sees the other object.
         */
        relationWords: z.array(z.string().regex(/^[a-z]+$/, "one lowercase word")).max(64).optional(),
      })
      .strict(),
    detail: z.object({ weight: z.number().min(0).max(1), cropMargin: z.number().min(0).max(1) }).strict(),
  })
  .strict()
  .refine((v) => Math.abs(v.context.weight + v.detail.weight - 1) <= 1e-9, { error: "views: context.weight + detail.weight must be 1" });

const rgb = z.tuple([z.number(), z.number(), z.number()]);
const positiveRgb = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);

const manifestSchema = z.object({
  format: z.literal("region-search-pack/1"),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, "letters, digits, dot, dash, underscore"),
  version: z.string().min(1),
  description: z.string().optional(),
  segmenter: z.object({
    imageSize: z.int().positive(),
    pixelMean: rgb,
    pixelStd: positiveRgb,
    maskThreshold: z.number(),
    encoder: modelSpecSchema,
    decoder: modelSpecSchema.optional(),
    batchedDecoder: modelSpecSchema.optional(),
    /** Partial AMG overrides; validated by `resolveAmgParams` (src/lib/amg). */
    amg: z.record(z.string(), z.unknown()).optional(),
  }),
  embedder: z.object({
    imageSize: z.int().positive(),
    imageMean: rgb,
    imageStd: positiveRgb,
    alphaMean: z.number(),
    alphaStd: z.number().positive(),
    embedDim: z.int().positive(),
    image: modelSpecSchema,
    text: modelSpecSchema,
    clipImage: modelSpecSchema.optional(),
    clipText: modelSpecSchema.optional(),
    views: viewsSchema.optional(),
  }),
  tokenizer: z.object({
    file: z.string().min(1),
    contextLength: z.int().min(2),
    bosId: z.int().min(0),
    eosId: z.int().min(0),
    padId: z.int().min(0),
  }),
  files: z
    .array(z.object({ path: z.string().min(1), bytes: z.int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits") }))
    .min(1),
});

export type TensorSpec = z.infer<typeof tensorSpecSchema>;
export type Views = z.infer<typeof viewsSchema>;
export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type Manifest = z.infer<typeof manifestSchema>;

/** Every model slot of a manifest with the tensor names the pipeline feeds and reads. */
export const MODEL_ROLES = {
  encoder: { inputs: ["image"], outputs: ["image_embeddings"] },
  decoder: {
    inputs: ["image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input", "orig_im_size"],
    outputs: ["iou_predictions", "low_res_masks"],
  },
  batchedDecoder: {
    inputs: ["image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input"],
    outputs: ["iou_predictions", "low_res_masks"],
  },
  image: { inputs: ["image", "alpha"], outputs: [] },
  text: { inputs: ["input_ids"], outputs: [] },
  clipImage: { inputs: ["image"], outputs: [] },
  clipText: { inputs: ["input_ids"], outputs: [] },
} as const;

export type ModelRole = keyof typeof MODEL_ROLES;

/** The model specs a manifest names, by role (optional ones omitted when absent). */
export function modelSpecs(m: Manifest): Partial<Record<ModelRole, ModelSpec>> {
  const { encoder, decoder, batchedDecoder } = m.segmenter;
  const { image, text, clipImage, clipText } = m.embedder;
  const all: Partial<Record<ModelRole, ModelSpec | undefined>> = { encoder, decoder, batchedDecoder, image, text, clipImage, clipText };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Partial<Record<ModelRole, ModelSpec>>;
}

/**
 * Length of a stored vector: `embedDim` per view, so `2 · embedDim` for a dual-view pack
 * (`[√(1−w)·context, √w·detail]`) and `embedDim` for an alpha-only one.
 */
export function storedVectorDim(m: Manifest): number {
  return m.embedder.views ? 2 * m.embedder.embedDim : m.embedder.embedDim;
}

/**
 * Parse and validate `json` as a manifest; throws an Error prefixed by `where` listing every
 * problem (`segmenter.encoder.inputs.0.shape: …`).
 */
export function parseManifest(json: unknown, where: string): Manifest {
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`${where}: invalid manifest: ${issues.join("; ")}`);
  }
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw new Error(`${where}: invalid manifest: ${problems.join("; ")}`);
  return parsed.data;
}

/** Checks that need several fields at once; returns human-readable problems. */
function crossCheck(m: Manifest): string[] {
  const problems: string[] = [];
  const specs = modelSpecs(m);
  if (!m.segmenter.decoder && !m.segmenter.batchedDecoder) problems.push("segmenter: needs a decoder or a batchedDecoder");
  for (const [role, spec] of Object.entries(specs) as [ModelRole, ModelSpec][]) {
    const names = spec.inputs.map((t) => t.name);
    for (const required of MODEL_ROLES[role].inputs) {
      if (!names.includes(required)) problems.push(`${role} (${spec.file}): input "${required}" missing (has: ${names.join(", ")})`);
    }
    const outNames = spec.outputs.map((t) => t.name);
    for (const required of MODEL_ROLES[role].outputs) {
      if (!outNames.includes(required)) problems.push(`${role} (${spec.file}): output "${required}" missing (has: ${outNames.join(", ")})`);
    }
  }
  const S = m.segmenter.imageSize, E = m.embedder.imageSize, D = m.embedder.embedDim;
  expectShape(problems, specs.encoder, "image", [1, 3, S, S]);
  expectShape(problems, specs.image, "image", [null, 3, E, E]);
  expectShape(problems, specs.image, "alpha", [null, 1, E, E]);
  expectShape(problems, specs.clipImage, "image", [null, 3, E, E]);
  for (const role of ["text", "clipText"] as const) {
    expectShape(problems, specs[role], "input_ids", [null, m.tokenizer.contextLength]);
    const dtype = specs[role]?.inputs.find((t) => t.name === "input_ids")?.dtype;
    if (dtype !== undefined && dtype !== "int64" && dtype !== "int32") problems.push(`${role}: input_ids must be int64 or int32, not ${dtype}`);
  }
  for (const role of ["image", "text", "clipImage", "clipText"] as const) {
    const out = specs[role]?.outputs[0];
    if (out) expectShape(problems, specs[role], out.name, [null, D], "outputs");
  }
  if (m.embedder.views && !m.embedder.clipImage) problems.push("embedder.views: the detail view needs the clipImage model");
  const listed = new Set(m.files.map((f) => f.path));
  for (const spec of Object.values(specs)) if (!listed.has(spec.file)) problems.push(`files: "${spec.file}" is not listed`);
  for (const spec of Object.values(specs)) problems.push(...externalDataProblems(spec, listed));
  if (!listed.has(m.tokenizer.file)) problems.push(`files: "${m.tokenizer.file}" is not listed`);
  if (m.tokenizer.eosId === m.tokenizer.padId) problems.push("tokenizer: eosId must differ from padId");
  return problems;
}

/** An external-data file must be listed and sit beside its model (onnxruntime looks there). */
function externalDataProblems(spec: ModelSpec, listed: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const folder = (p: string) => p.slice(0, p.lastIndexOf("/") + 1);
  for (const name of spec.externalData ?? []) {
    if (!listed.has(name)) problems.push(`files: "${name}" (external data of ${spec.file}) is not listed`);
    if (folder(name) !== folder(spec.file)) problems.push(`${spec.file}: external data "${name}" must be in the model file's folder`);
  }
  return problems;
}

/** `expected` entries: a number must match exactly; `null` accepts any entry (fixed or named). */
function expectShape(
  problems: string[],
  spec: ModelSpec | undefined,
  tensor: string,
  expected: readonly (number | null)[],
  side: "inputs" | "outputs" = "inputs",
): void {
  const t = spec?.[side].find((x) => x.name === tensor);
  if (!spec || !t) return;
  const ok = t.shape.length === expected.length && expected.every((e, i) => e === null || t.shape[i] === e);
  if (!ok) {
    const want = expected.map((e) => (e === null ? "*" : e)).join(", ");
    problems.push(`${spec.file}: ${side === "inputs" ? "input" : "output"} "${tensor}" shape [${t.shape.join(", ")}], expected [${want}]`);
  }
}
