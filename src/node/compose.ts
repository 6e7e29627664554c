/**
 * The composition root of the Node entries: the one place that opens the model pack, the object
 * store (image records and bytes), the vector store and the URL fetcher from settings, and the order
 * they open in — pack, then the start-up index check (docs/reindex.md), then the stores. The local
 * server (functions/local.ts, server/build.ts), `region-search --embedded` and `reindex`, and the
 * ingest and query functions all open through here, so they cannot drift apart.
 *
 * It reads parsed environments structurally (`ComposeEnv`: the shared field groups of
 * src/lib/env-fields.ts and src/node/storage-env.ts), so each entry keeps its own schema.
 */
import path from "node:path";
import type { ImageLimitEnv } from "../lib/env-fields.js";
import {
  INTERNAL_PREFIX,
  ObjectBlobStore,
  ObjectCatalog,
  RemoteObjectStore,
  type ObjectStore,
} from "../lib/objects/index.js";
import type { BlobStore, ImageCatalog, RegionExtractor, UrlFetcher } from "../lib/services.js";
import { createQdrantStore } from "../lib/store/qdrant/index.js";
import type { VectorStore } from "../lib/store/types.js";
import type { UrlFetchSettings } from "../lib/url-fetch/env.js";
import type { AmgParamsOverrides } from "../lib/amg/params.js";
import { SignedClient } from "../lib/webhooks/client.js";
import { DiskBlobStore } from "./blobs/disk-blobs.js";
import { FileCatalog } from "./catalog/file-catalog.js";
import type { Logger } from "./logging.js";
import type { ExecutionProvider } from "./models/session.js";
import { S3ObjectStore } from "./objects/s3.js";
import {
  checkIndex,
  type IndexCheckResult,
  type VectorStoreToCheck,
} from "./server/index-check.js";
import {
  extractorOptionsFromEnv,
  loadModels,
  sessionOptionsFromEnv,
  type ModelOptions,
  type Models,
} from "./server/models.js";
import {
  objectSettings,
  vectorStoreSettings,
  type ObjectSettings,
  type ObjectsEnv,
  type VectorStoreEnv,
  type VectorStoreSettings,
} from "./storage-env.js";
import { meteredText, meteredVectorStore } from "./metrics/wrap.js";
import type { Metrics } from "./metrics/registry.js";
import { LanceVectorStore } from "./store/lance.js";
import { createNodeUrlFetcher, type NodeUrlFetcherOptions } from "./url-fetch.js";

/** What the composition root reads of a parsed environment (server/env.ts and functions/env.ts both fit). */
export type ComposeEnv = ImageLimitEnv &
  VectorStoreEnv &
  ObjectsEnv & {
    MODEL_PACK: string;
    AMG_OVERRIDES?: AmgParamsOverrides | undefined;
    ORT_INTRA_OP_THREADS: number;
    ORT_INTER_OP_THREADS: number;
    ORT_ALLOW_SPINNING: boolean;
    ORT_EXECUTION_PROVIDER: ExecutionProvider;
  };

/** Image records and bytes. */
export interface ObjectBackends {
  catalog: ImageCatalog;
  blobs: BlobStore;
}

/** Everything an entry opened, and how to close it all again. */
export interface Composed extends ObjectBackends {
  models: Models;
  vectors: VectorStore;
  close(): Promise<void>;
}

type Log = Pick<Logger, "info" | "warn">;

/** `dataDir/vectors`: where every entry keeps the embedded (LanceDB) store. */
export const embeddedVectorDir = (dataDir: string): string => path.join(dataDir, "vectors");

/** Model-loading options; `packDir` overrides MODEL_PACK (`reindex --pack`). */
export function modelOptions(
  env: ComposeEnv,
  o: { packDir?: string; extractorThread?: boolean } = {},
): ModelOptions {
  return {
    packDir: o.packDir ?? env.MODEL_PACK,
    session: sessionOptionsFromEnv(env),
    extractor: extractorOptionsFromEnv(env),
    ...(o.extractorThread === undefined ? {} : { extractorThread: o.extractorThread }),
  };
}

export async function openModels(
  env: ComposeEnv,
  log?: Log,
  o: { packDir?: string; extractorThread?: boolean } = {},
): Promise<Models> {
  const options = modelOptions(env, o);
  const models = await loadModels(options);
  log?.info(
    { event: "pack_loaded", pack: models.pack.id, dir: options.packDir },
    "model pack loaded",
  );
  return models;
}

/**
 * The start-up check of the index against the pack (server/index-check.ts). Only a swap to a
 * completed re-index reads images, so the object store is opened for it only then.
 */
export function checkIndexAtStart(
  env: ComposeEnv,
  models: { pack: { id: string; vectorDim: number }; extractor: RegionExtractor },
  log?: Log,
): Promise<IndexCheckResult> {
  const vectors = vectorStoreSettings(env, models.pack.vectorDim);
  const store: VectorStoreToCheck =
    vectors.kind === "qdrant"
      ? { ...vectors, dataDir: env.DATA_DIR }
      : { kind: "embedded", dataDir: env.DATA_DIR };
  const catchUp = () => ({ ...openObjects(objectSettings(env)), extractor: models.extractor });
  const pack = { id: models.pack.id, vectorDim: models.pack.vectorDim, dir: env.MODEL_PACK };
  return checkIndex(store, pack, { catchUp, ...(log ? { log } : {}) });
}

/** The pack, checked against the index: an index of another pack fails here, with the models released. */
export async function openCheckedModels(env: ComposeEnv, log?: Log): Promise<Models> {
  const models = await openModels(env, log);
  await checkIndexAtStart(env, models, log).catch(async (err: unknown) => {
    await models.release();
    throw err;
  });
  return models;
}

/** Image records and bytes; on disk, the catalog also lists its tenants (the local queue's recovery, the re-index). */
export function openObjects(settings: Extract<ObjectSettings, { kind: "disk" }>): {
  catalog: FileCatalog;
  blobs: DiskBlobStore;
};
export function openObjects(settings: ObjectSettings): ObjectBackends;
export function openObjects(settings: ObjectSettings): ObjectBackends {
  if (settings.kind === "disk") {
    return {
      catalog: new FileCatalog(settings.dataDir),
      blobs: new DiskBlobStore(settings.dataDir),
    };
  }
  const objects =
    settings.kind === "s3"
      ? new S3ObjectStore(settings.options)
      : gatewayObjects(settings.url, settings.secrets);
  return { catalog: new ObjectCatalog(objects), blobs: new ObjectBlobStore(objects) };
}

/** The Worker's signed object endpoint (under /internal, src/lib/objects/rpc.ts) as an `ObjectStore`. */
function gatewayObjects(url: string, secrets: readonly string[]): ObjectStore {
  const base = url.replace(/\/+$/, "") + INTERNAL_PREFIX;
  return new RemoteObjectStore(new SignedClient({ baseUrl: base, secrets }));
}

/**
 * Opens the chosen vector store. Qdrant's bootstrap runs here, so a collection that cannot hold the
 * pack's vectors fails start-up with `CollectionMismatchError` before anything is served.
 */
export async function openVectorStore(
  settings: VectorStoreSettings,
  at: { dataDir: string; indexThreshold?: number },
  log?: Log,
  metrics?: Metrics,
): Promise<VectorStore> {
  const store = await openStore(settings, at, log);
  // Metered here, once for every entry, so no adapter knows about metrics.
  return metrics ? meteredVectorStore(store, metrics) : store;
}

async function openStore(
  settings: VectorStoreSettings,
  at: { dataDir: string; indexThreshold?: number },
  log?: Log,
): Promise<VectorStore> {
  if (settings.kind === "embedded") {
    return LanceVectorStore.open({
      dir: embeddedVectorDir(at.dataDir),
      ...(at.indexThreshold !== undefined ? { indexThreshold: at.indexThreshold } : {}),
    });
  }
  const { url, collection, dim } = settings.options;
  const store = await createQdrantStore(settings.options);
  log?.info(
    { event: "vector_store", kind: "qdrant", url, collection, dim, ...store.bootstrap },
    `Qdrant collection "${collection}" ready`,
  );
  return store;
}

/** The pinned Node fetcher behind `POST /v1/images {url}`; none when switched off (the route answers 501). */
export function openUrlFetcher(
  settings?: UrlFetchSettings & Partial<NodeUrlFetcherOptions>,
): (UrlFetcher & { close(): Promise<void> }) | undefined {
  return settings?.enabled ? createNodeUrlFetcher(settings) : undefined;
}

/**
 * An entry's models and storage, in order: pack, index check, vector store, objects. With
 * `metrics`, the vector store and the text tower are metered (src/node/metrics).
 */
export async function composeNode(
  env: ComposeEnv,
  log?: Log,
  metrics?: Metrics,
): Promise<Composed> {
  const opened = await openCheckedModels(env, log);
  const models = metrics ? { ...opened, text: meteredText(opened.text, metrics) } : opened;
  try {
    const settings = vectorStoreSettings(env, models.pack.vectorDim);
    const vectors = await openVectorStore(
      settings,
      { dataDir: env.DATA_DIR, indexThreshold: env.VECTOR_INDEX_THRESHOLD },
      log,
      metrics,
    );
    const close = async () => {
      await vectors.close?.();
      await models.release();
    };
    return { models, ...openObjects(objectSettings(env)), vectors, close };
  } catch (err) {
    await models.release();
    throw err;
  }
}
