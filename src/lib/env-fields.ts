/**
 * Environment variables that more than one entry reads, declared once as zod field groups. Each
 * entry's schema spreads the groups it reads (src/node/server/env.ts, src/node/functions/env.ts,
 * src/edge/env.ts) and parses with `parseEnvWith`, so a variable means the same, defaults the same
 * and fails with the same message wherever it is set. Checks across the fields of a group come with
 * the group, as a function for the entry schema's `superRefine`.
 *
 * Runtime-neutral (the Worker reads the limits and secrets): the storage groups, which name Node
 * stores, are src/node/storage-env.ts; the `URL_FETCH_*` group is src/lib/url-fetch/env.ts, the
 * `QDRANT_*` one src/lib/store/qdrant/index.ts.
 */
import { z } from "zod";
import { amgOverridesEnvField } from "./amg/params.js";
import { formatIssues } from "./errors.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";

/** An integer variable within [min, max]. */
export const intVar = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);

/** Where a Node entry listens, and how much it logs (pino's levels). */
export const serviceFields = {
  PORT: intVar(1, 65535).default(8080),
  HOST: z.string().default("0.0.0.0"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

/** Where the disk catalog, the images and the embedded vector store live. */
export const dataDirFields = {
  DATA_DIR: z.string().min(1).default("./data"),
};

/** The model pack folder, and AMG keys over its `segmenter.amg` (src/lib/amg/params.ts; unset = the pack's). */
export const modelPackFields = {
  MODEL_PACK: z.string().min(1).default("models/shapes-tiny"),
  AMG_OVERRIDES: amgOverridesEnvField,
};

/** onnxruntime's threads (src/node/models/session.ts). */
export const ortFields = {
  /** Intra-op threads; 0 = one per physical core. */
  ORT_INTRA_OP_THREADS: intVar(0, 256).default(0),
  ORT_INTER_OP_THREADS: intVar(1, 256).default(1),
  /** Let idle threads busy-wait between ops; off by default. `true`/`false`, `1`/`0`: z.coerce.boolean would read "false" as true. */
  ORT_ALLOW_SPINNING: z.stringbool().default(false),
  /** `cpu`, or `cuda` with a fallback to the CPU (one warning) where CUDA cannot load. */
  ORT_EXECUTION_PROVIDER: z.enum(["cpu", "cuda"]).default("cpu"),
};

/** What an upload may weigh and measure (src/lib/limits.ts). */
export const imageLimitFields = {
  MAX_UPLOAD_BYTES: intVar(1).default(DEFAULT_LIMITS.maxUploadBytes),
  MAX_PIXELS: intVar(1).default(DEFAULT_LIMITS.maxPixels),
  MAX_SIDE: intVar(1).default(DEFAULT_LIMITS.maxSide),
};

export type ImageLimitEnv = z.infer<z.ZodObject<typeof imageLimitFields>>;

export function imageLimits(
  env: ImageLimitEnv,
): Pick<Limits, "maxUploadBytes" | "maxPixels" | "maxSide"> {
  return { maxUploadBytes: env.MAX_UPLOAD_BYTES, maxPixels: env.MAX_PIXELS, maxSide: env.MAX_SIDE };
}

/** `whsec_a whsec_b` or `whsec_a,whsec_b`: during a rotation both verify, the first signs. */
export const webhookSecretFields = {
  WEBHOOK_SECRET: z
    .string()
    .min(1, "WEBHOOK_SECRET is required (whsec_…)")
    .transform((s) => s.split(/[\s,]+/).filter(Boolean))
    .pipe(z.array(z.string().startsWith("whsec_", "each secret must start with whsec_")).min(1)),
};

/** A check across the fields of a group, run by the entry schema's `superRefine` (it adds issues, never throws). */
export type EnvCheck<T> = (env: T, ctx: z.RefinementCtx) => void;

/** Parses an environment with an entry's schema; a failure names every bad variable, in one Error. */
export function parseEnvWith<S extends z.ZodType>(
  schema: S,
  env: Record<string, unknown>,
  what = "invalid environment",
): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new Error(`${what}: ${formatIssues(result.error.issues)}`);
  return result.data;
}
