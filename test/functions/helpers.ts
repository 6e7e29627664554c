/** Signed requests and in-process function apps over temporary storage, with fake models. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULT_LIMITS } from "../../src/lib/limits.js";
import type { ReconcileTimes } from "../../src/lib/webhooks/storage-reconcile.js";
import { generateSecret, signedHeaders } from "../../src/lib/webhooks/standard-webhooks.js";
import { openObjects } from "../../src/node/compose.js";
import { createIngestFunction } from "../../src/node/functions/ingest/app.js";
import { createQueryFunction } from "../../src/node/functions/query/app.js";
import { SharpRenderer } from "../../src/node/render/sharp-renderer.js";
import type { ObjectSettings } from "../../src/node/storage-env.js";
import { MemoryVectorStore } from "../store/memory-store.js";
import { FakeExtractor, FakeTextEmbedder } from "../support/fakes.js";

export const SECRET = generateSecret();

/** A signed JSON POST `Request` (optionally with a chosen message id or timestamp). */
export async function signedRequest(
  url: string,
  payload: unknown,
  options: { id?: string; timestamp?: number; secret?: string } = {},
): Promise<Request> {
  const body = JSON.stringify(payload);
  const headers = await signedHeaders([options.secret ?? SECRET], body, options);
  return new Request(url, {
    method: "POST",
    body,
    headers: { ...headers, "content-type": "application/json" },
  });
}

/**
 * Both function apps; images and records on a temporary disk unless `objectSettings` says otherwise.
 * `secrets` are the functions' verifying secrets (several during a rotation).
 */
export async function makeFunctions(
  objectSettings?: ObjectSettings,
  secrets: readonly string[] = [SECRET],
  reconcileTimes?: Partial<ReconcileTimes>,
) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "rs-fn-"));
  const objects = openObjects(objectSettings ?? { kind: "disk", dataDir });
  const vectors = new MemoryVectorStore();
  const extractor = new FakeExtractor();
  const text = new FakeTextEmbedder();
  const ingest = createIngestFunction({ ...objects, vectors }, extractor, {
    secrets,
    ...(reconcileTimes ? { reconcileTimes } : {}),
  });
  const query = createQueryFunction(
    { text, vectors, renderer: new SharpRenderer() },
    { secrets, maxBodyBytes: 1 << 20, maxFetchBytes: DEFAULT_LIMITS.maxUploadBytes },
  );
  const close = () => rm(dataDir, { recursive: true, force: true });
  return { ...objects, vectors, extractor, text, ingest: ingest.app, query, close };
}
