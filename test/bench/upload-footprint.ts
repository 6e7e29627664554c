/**
 * `npx tsx test/bench/upload-footprint.ts`: which of our source files one upload runs through on the
 * local server's thread (the API, intake, storage, queue and job; the model worker is another
 * isolate and is not counted). V8's precise coverage is reset after the server is built, one shapes
 * scene is uploaded with `?wait=true`, and every file with a function called during it is listed.
 * A measure of how many rooms a reader must visit to follow an upload.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger } from "../../src/node/logging.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { loadModels } from "../../src/node/server/models.js";
import { writeShapesSplit } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";

const root = path.resolve(import.meta.dirname, "../..");

async function main(): Promise<void> {
  const dir = path.join(root, "test/fixtures/generated/footprint");
  writeShapesSplit(dir, 2);
  const [warm, scene] = readShapesSplit(dir, 2);
  const dataDir = await mkdtemp(path.join(tmpdir(), "footprint-"));
  const models = await loadModels({
    packDir: path.join(root, "models/shapes-tiny"),
    session: { intraOpNumThreads: 2 },
  });
  const settings = {
    dataDir,
    limits: {},
    apiKeys: {},
    ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 },
    vectorIndexThreshold: 50_000,
  };
  const server = await buildLocalServer(settings, models, createLogger("silent"));
  const upload = async (png: string, id: string) => {
    const res = await server.app.request(`/v1/images?id=${id}&wait=true`, {
      method: "POST",
      headers: { "content-type": "image/png" },
      body: readFileSync(png),
    });
    if (res.status !== 201) throw new Error(`upload answered ${res.status}`);
  };
  await upload(warm!.png, "warm"); // lazy loads and first-call paths happen here, not below

  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.startPreciseCoverage", { callCount: true, detailed: false });
  await session.post("Profiler.takePreciseCoverage"); // resets the counts
  await upload(scene!.png, "measured");
  const { result } = await session.post("Profiler.takePreciseCoverage");
  const files = new Set<string>();
  for (const script of result) {
    if (!script.url.startsWith("file://")) continue;
    const file = path.relative(root, new URL(script.url).pathname);
    if (!/^(src|functions)\//.test(file)) continue;
    if (script.functions.some((f, i) => i > 0 && f.ranges[0]!.count > 0)) files.add(file);
  }
  const list = [...files].sort();
  console.log(list.join("\n"));
  console.log(`\n${list.length} source files run by one upload (local server thread)`);
  await server.close?.();
  await models.release();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
