/**
 * The start-up check of the vector index (src/node/server/index-check.ts) for the Node functions
 * (functions/ingest.ts, functions/query.ts): their store settings and object backends, from env.
 */
import { qdrantOptionsFromEnv } from "../../lib/store/qdrant/index.js";
import type { RegionExtractor } from "../../lib/services.js";
import { checkIndex, type IndexCheckOptions, type IndexCheckResult, type StoreToCheck } from "../server/index-check.js";
import { buildObjectBackends, embeddedVectorDir } from "./backends.js";
import { objectSettingsFromEnv } from "./entry.js";
import type { FunctionEnv } from "./env.js";

export function checkFunctionIndex(
  env: FunctionEnv,
  rawEnv: Record<string, string | undefined>,
  models: { pack: { id: string; vectorDim: number }; extractor: RegionExtractor },
  log?: IndexCheckOptions["log"],
): Promise<IndexCheckResult> {
  const store: StoreToCheck =
    env.VECTOR_STORE === "qdrant"
      ? { kind: "qdrant", options: qdrantOptionsFromEnv(rawEnv, models.pack.vectorDim), dataDir: env.DATA_DIR }
      : { kind: "embedded", dataDir: env.DATA_DIR, dir: embeddedVectorDir(env.DATA_DIR) };
  // Only a swap at start-up (embedded store, completed re-index) reads images: the backends are built then.
  const catchUp = () => ({ ...buildObjectBackends(objectSettingsFromEnv(env)), extractor: models.extractor });
  return checkIndex(store, { ...models.pack, dir: env.MODEL_PACK }, { catchUp, ...(log ? { log } : {}) });
}
