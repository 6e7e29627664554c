/**
 * The local server exactly as `npm start` builds it (disk catalog and blobs, LanceDB, in-process
 * queue, the upload verifier), from an environment parsed like the real one, with fast models.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RegionExtractor } from "../../src/lib/services.js";
import { createLogger } from "../../src/node/logging.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { localServerSettings, parseEnv } from "../../src/node/server/env.js";
import { FAKE_DIM, FakeTextEmbedder } from "../support/fakes.js";

export async function startLocal(extractor: RegionExtractor, env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "rs-sec-"));
  const settings = localServerSettings(
    parseEnv({ DATA_DIR: dataDir, INGEST_BACKOFF_MS: "1", INGEST_MAX_ATTEMPTS: "2", ...env }),
    FAKE_DIM,
  );
  const server = await buildLocalServer(
    settings,
    { extractor, text: new FakeTextEmbedder() },
    createLogger("silent"),
  );
  const close = async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { ...server, dataDir, close };
}

export type Local = Awaited<ReturnType<typeof startLocal>>;
