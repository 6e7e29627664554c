/**
 * Environment of the Node functions (ingest, query), parsed once at the entry with zod. Nothing below
 * the entry reads `process.env`.
 */
import { z } from "zod";
import { amgOverridesEnvField } from "../../lib/amg/index.js";
import { DEFAULT_LIMITS } from "../../lib/limits.js";
import { urlFetchEnvFields } from "../../lib/url-fetch/env.js";

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
    /** JSON AMG keys over the pack's `segmenter.amg` (src/lib/amg/params.ts); unset = the pack's. */
    AMG_OVERRIDES: amgOverridesEnvField,
    ORT_INTRA_OP_THREADS: int(0, 256).default(0),
    ORT_INTER_OP_THREADS: int(1, 256).default(1),
    /** Let onnxruntime's idle threads busy-wait between ops; off by default (see session.ts). */
    ORT_ALLOW_SPINNING: z.stringbool().default(false),
    /**
     * Where images and records live: `disk` (DATA_DIR), `gateway` (the Worker's signed R2 endpoint),
     * `s3` (the bucket itself over the S3 API: R2 or AWS S3, `S3_*` variables).
     */
    OBJECT_STORE: z.enum(["disk", "gateway", "s3"]).default("disk"),
    GATEWAY_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** R2: `https://<account>.r2.cloudflarestorage.com`; leave unset for AWS S3 (derived from S3_REGION). */
    S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    S3_REGION: z.string().min(1).default("auto"),
    S3_BUCKET: z.string().min(1).optional(),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    /** `true`/`false` (also `1`/`0`, `yes`/`no`); z.coerce.boolean would read "false" as true. */
    S3_FORCE_PATH_STYLE: z.stringbool().default(false),
    /** `embedded` (LanceDB under DATA_DIR) or `qdrant` (QDRANT_* variables). */
    VECTOR_STORE: z.enum(["embedded", "qdrant"]).default("embedded"),
    DATA_DIR: z.string().min(1).default("./data"),
    MAX_UPLOAD_BYTES: int(1).default(DEFAULT_LIMITS.maxUploadBytes),
    MAX_PIXELS: int(1).default(DEFAULT_LIMITS.maxPixels),
    MAX_SIDE: int(1).default(DEFAULT_LIMITS.maxSide),
    /** Query function: `/rpc/fetch-url`, the gateway's `POST /v1/images {url}` (pinned; src/node/url-fetch.ts). */
    ...urlFetchEnvFields(),
  })
  .refine((e) => e.OBJECT_STORE !== "gateway" || e.GATEWAY_URL, { message: "GATEWAY_URL is required with OBJECT_STORE=gateway", path: ["GATEWAY_URL"] })
  .superRefine(requireS3Settings);

/** The variables `requireS3Settings` looks at. */
interface S3Fields {
  OBJECT_STORE: string;
  S3_ENDPOINT?: string;
  S3_REGION: string;
  S3_BUCKET?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
}

/** Names each missing `S3_*` variable with OBJECT_STORE=s3; other stores ignore them. */
function requireS3Settings(e: S3Fields, ctx: z.RefinementCtx): void {
  if (e.OBJECT_STORE !== "s3") return;
  for (const name of ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
    if (!e[name]) ctx.addIssue({ code: "custom", message: `${name} is required with OBJECT_STORE=s3`, path: [name] });
  }
  // Without an endpoint the SDK targets AWS S3, which has no region "auto" (that is R2's).
  if (!e.S3_ENDPOINT && e.S3_REGION === "auto") {
    ctx.addIssue({ code: "custom", message: "S3_ENDPOINT is required with S3_REGION=auto (R2); for AWS S3 set S3_REGION", path: ["S3_ENDPOINT"] });
  }
}

export type FunctionEnv = z.infer<typeof functionEnvSchema>;

export function parseFunctionEnv(env: Record<string, string | undefined>): FunctionEnv {
  const result = functionEnvSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}
