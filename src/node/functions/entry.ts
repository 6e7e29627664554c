/**
 * What the two entries (functions/ingest.ts, functions/query.ts) share: parsed env → loaded models
 * and storage. Kept here so each entry stays a few lines.
 */
import { qdrantOptionsFromEnv } from "../../lib/store/qdrant/index.js";
import type { Limits } from "../../lib/limits.js";
import { extractorOptionsFromEnv, loadModels, sessionOptionsFromEnv, type Models } from "../server/models.js";
import { buildObjectBackends, buildVectorStore, embeddedVectorDir, type Backends, type ObjectSettings } from "./backends.js";
import type { FunctionEnv } from "./env.js";

export async function loadFunctionModels(env: FunctionEnv): Promise<Models> {
  return loadModels({
    packDir: env.MODEL_PACK,
    session: sessionOptionsFromEnv(env),
    extractor: extractorOptionsFromEnv(env),
  });
}

/**
 * Storage from env. `rawEnv` is read only for the `QDRANT_*` group, which the Qdrant adapter parses
 * itself (with zod) — still here, at the entry.
 */
export async function buildFunctionBackends(env: FunctionEnv, rawEnv: Record<string, string | undefined>, dim: number): Promise<Backends> {
  const objects = buildObjectBackends(objectSettingsFromEnv(env));
  const vectors = await buildVectorStore(
    env.VECTOR_STORE === "qdrant"
      ? { kind: "qdrant", options: qdrantOptionsFromEnv(rawEnv, dim) }
      : { kind: "embedded", dir: embeddedVectorDir(env.DATA_DIR) },
  );
  return { ...objects, vectors };
}

/** Which object store, from env (the schema has already required each store's variables). */
export function objectSettingsFromEnv(env: FunctionEnv): ObjectSettings {
  if (env.OBJECT_STORE === "gateway") return { kind: "gateway", url: env.GATEWAY_URL!, secrets: env.WEBHOOK_SECRET };
  if (env.OBJECT_STORE === "disk") return { kind: "disk", dataDir: env.DATA_DIR };
  return {
    kind: "s3",
    options: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      bucket: env.S3_BUCKET!,
      accessKeyId: env.S3_ACCESS_KEY_ID!,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
    },
  };
}

export function limitsFromEnv(env: FunctionEnv): Partial<Limits> {
  return { maxUploadBytes: env.MAX_UPLOAD_BYTES, maxPixels: env.MAX_PIXELS, maxSide: env.MAX_SIDE };
}
