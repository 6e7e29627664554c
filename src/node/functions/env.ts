/**
 * Environment of the Node functions (ingest, query), parsed once at the entry with zod. Nothing below
 * the entry reads `process.env`.
 */
import { z } from "zod";
import { DEFAULT_LIMITS } from "../../lib/limits.js";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** `whsec_a whsec_b` or `whsec_a,whsec_b`: during rotation both verify, the first signs. */
const secrets = z
  .string()
  .min(1, "WEBHOOK_SECRET is required (whsec_…)")
  .transform((s) => s.split(/[\s,]+/).filter(Boolean))
  .pipe(z.array(z.string().startsWith("whsec_", "each secret must start with whsec_")).min(1));

export const functionEnvSchema = z
  .object({
    PORT: int(1, 65535).default(8080),
    HOST: z.string().default("0.0.0.0"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    WEBHOOK_SECRET: secrets,
    MODEL_PACK: z.string().min(1).default("models/shapes-tiny"),
    ORT_INTRA_OP_THREADS: int(0, 256).default(0),
    ORT_INTER_OP_THREADS: int(1, 256).default(1),
    /** Where images and records live: `disk` (DATA_DIR), `gateway` (the Worker's signed R2 endpoint). */
    OBJECT_STORE: z.enum(["disk", "gateway"]).default("disk"),
    GATEWAY_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** `embedded` (LanceDB under DATA_DIR) or `qdrant` (QDRANT_* variables). */
    VECTOR_STORE: z.enum(["embedded", "qdrant"]).default("embedded"),
    DATA_DIR: z.string().min(1).default("./data"),
    MAX_UPLOAD_BYTES: int(1).default(DEFAULT_LIMITS.maxUploadBytes),
    MAX_PIXELS: int(1).default(DEFAULT_LIMITS.maxPixels),
    MAX_SIDE: int(1).default(DEFAULT_LIMITS.maxSide),
  })
  .refine((e) => e.OBJECT_STORE !== "gateway" || e.GATEWAY_URL, { message: "GATEWAY_URL is required with OBJECT_STORE=gateway", path: ["GATEWAY_URL"] });

export type FunctionEnv = z.infer<typeof functionEnvSchema>;

export function parseFunctionEnv(env: Record<string, string | undefined>): FunctionEnv {
  const result = functionEnvSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}
