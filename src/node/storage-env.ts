/**
 * The storage groups of the Node entries' environments (see src/lib/env-fields.ts for the others),
 * and the settings they come to: which vector store (embedded LanceDB or Qdrant) and which object
 * store (disk, the gateway's signed endpoint, or S3/R2). Kept out of src/lib because the settings
 * name Node stores; src/node/compose.ts opens them.
 */
import { z } from "zod";
import { intVar, type EnvCheck } from "../lib/env-fields.js";
import {
  qdrantEnvFields,
  qdrantOptions,
  type QdrantStoreOptions,
} from "../lib/store/qdrant/index.js";
import type { S3ObjectStoreOptions } from "./objects/s3.js";

export const vectorStoreFields = {
  /** `embedded` (LanceDB under DATA_DIR/vectors) or `qdrant` (the QDRANT_* variables). */
  VECTOR_STORE: z.enum(["embedded", "qdrant"]).default("embedded"),
  /** Rows at which the LanceDB ANN index is built. */
  VECTOR_INDEX_THRESHOLD: intVar(1).default(50_000),
  ...qdrantEnvFields,
  // Required only with VECTOR_STORE=qdrant (checkVectorStore); still validated whenever it is set, so
  // a typo does not wait for the day someone switches stores.
  QDRANT_URL: qdrantEnvFields.QDRANT_URL.optional(),
};

export type VectorStoreEnv = z.infer<z.ZodObject<typeof vectorStoreFields>>;

export const checkVectorStore: EnvCheck<Pick<VectorStoreEnv, "VECTOR_STORE" | "QDRANT_URL">> = (
  e,
  ctx,
) => {
  if (e.VECTOR_STORE === "qdrant" && !e.QDRANT_URL) {
    ctx.addIssue({
      code: "custom",
      message: "QDRANT_URL is required with VECTOR_STORE=qdrant",
      path: ["QDRANT_URL"],
    });
  }
};

/** `embedded`: LanceDB under DATA_DIR/vectors. `qdrant`: the options carry the model pack's dimension. */
export type VectorStoreSettings =
  { kind: "embedded" } | { kind: "qdrant"; options: QdrantStoreOptions };

/**
 * The vector store the environment chose. `dim` is the model pack's embedding size
 * (`ModelPack.vectorDim`): the Qdrant collection is created with it, or checked against it.
 */
export function vectorStoreSettings(env: VectorStoreEnv, dim: number): VectorStoreSettings {
  if (env.VECTOR_STORE === "embedded") return { kind: "embedded" };
  return { kind: "qdrant", options: qdrantOptions({ ...env, QDRANT_URL: env.QDRANT_URL! }, dim) };
}

export const objectStoreFields = {
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
};

export type ObjectStoreEnv = z.infer<z.ZodObject<typeof objectStoreFields>>;

/** Names each variable the chosen object store is missing; other stores ignore them. */
export const checkObjectStore: EnvCheck<ObjectStoreEnv> = (e, ctx) => {
  if (e.OBJECT_STORE === "gateway" && !e.GATEWAY_URL) {
    ctx.addIssue({
      code: "custom",
      message: "GATEWAY_URL is required with OBJECT_STORE=gateway",
      path: ["GATEWAY_URL"],
    });
  }
  if (e.OBJECT_STORE !== "s3") return;
  for (const name of ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
    if (!e[name])
      ctx.addIssue({
        code: "custom",
        message: `${name} is required with OBJECT_STORE=s3`,
        path: [name],
      });
  }
  // Without an endpoint the SDK targets AWS S3, which has no region "auto" (that is R2's).
  if (!e.S3_ENDPOINT && e.S3_REGION === "auto") {
    ctx.addIssue({
      code: "custom",
      message: "S3_ENDPOINT is required with S3_REGION=auto (R2); for AWS S3 set S3_REGION",
      path: ["S3_ENDPOINT"],
    });
  }
};

export type ObjectSettings =
  | { kind: "disk"; dataDir: string }
  | { kind: "gateway"; url: string; secrets: readonly string[] }
  | { kind: "s3"; options: S3ObjectStoreOptions };

/** What `objectSettings` reads: an entry without the object-store group (the local server) keeps objects on disk. */
export type ObjectsEnv = {
  DATA_DIR: string;
  WEBHOOK_SECRET?: readonly string[];
} & Partial<ObjectStoreEnv>;

/** Which object store, from env (the schema has already required each store's variables). */
export function objectSettings(env: ObjectsEnv): ObjectSettings {
  if (env.OBJECT_STORE === "gateway")
    return { kind: "gateway", url: env.GATEWAY_URL!, secrets: env.WEBHOOK_SECRET ?? [] };
  if (env.OBJECT_STORE !== "s3") return { kind: "disk", dataDir: env.DATA_DIR };
  return {
    kind: "s3",
    options: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION!,
      bucket: env.S3_BUCKET!,
      accessKeyId: env.S3_ACCESS_KEY_ID!,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
      forcePathStyle: env.S3_FORCE_PATH_STYLE ?? false,
    },
  };
}
