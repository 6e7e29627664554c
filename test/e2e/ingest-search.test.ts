/**
 * The product's main job end to end on the embedded default: the bundled shapes-tiny pack, the real
 * server stack (disk catalog and blobs, in-process queue, LanceDB) and HTTP requests through the one
 * public app. Shapes scenes are uploaded, cut into regions and indexed; their captions are searched
 * and the returned masks are compared with the generator's ground truth.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rleIou } from "../../src/lib/masks/rle.js";
import type { CocoRle } from "../../src/lib/masks/types.js";
import { createLogger } from "../../src/node/logging.js";
import { buildLocalServer } from "../../src/node/server/build.js";
import { loadModels, type Models } from "../../src/node/server/models.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { readShapesSplit, type ShapesScene } from "../support/shapes.js";

interface SearchResult {
  regionId: string;
  imageId: string;
  score: number;
  bbox: [number, number, number, number];
  area: number;
  mask: CocoRle;
}

const SCENES = 6;
let models: Models;
let server: Awaited<ReturnType<typeof buildLocalServer>>;
let dataDir: string;
const scenes: ShapesScene[] = readShapesSplit(SHAPES_FIXTURE_DIR, SCENES);

async function search(body: Record<string, unknown>): Promise<SearchResult[]> {
  const res = await server.app.request("/v1/search", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: SearchResult[] }).results;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "rs-e2e-"));
  models = await loadModels({
    packDir: "models/shapes-tiny",
    session: { intraOpNumThreads: 2, interOpNumThreads: 1 },
  });
  server = await buildLocalServer(
    {
      dataDir,
      limits: {},
      apiKeys: {},
      ingest: { concurrency: 1, maxAttempts: 1, backoffMs: 0 },
      vectorIndexThreshold: 50_000,
    },
    models,
    createLogger("silent"),
  );
  for (const scene of scenes) {
    const res = await server.app.request(`/v1/images?id=scene-${scene.seed}&wait=true`, {
      method: "POST",
      headers: { "content-type": "image/png" },
      body: readFileSync(scene.png),
    });
    expect(res.status).toBe(201);
  }
}, 300_000);

afterAll(async () => {
  await server?.close();
  await models?.release();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("ingest and search on the bundled pack", () => {
  it("indexes every scene with regions at the image's own size", async () => {
    for (const scene of scenes) {
      const res = await server.app.request(`/v1/images/scene-${scene.seed}`);
      const record = (await res.json()) as {
        status: string;
        width: number;
        height: number;
        regionCount: number;
      };
      expect(record).toMatchObject({ status: "indexed", width: scene.width, height: scene.height });
      expect(record.regionCount).toBeGreaterThan(0);
    }
  });

  it("finds an object by its caption inside its image, with a mask that overlaps the truth", async () => {
    let found = 0;
    let asked = 0;
    for (const scene of scenes) {
      const target =
        scene.objects.find((o) => o.caption_unique && o.size === "large") ??
        scene.objects.find((o) => o.caption_unique);
      if (!target) continue;
      asked++;
      const [top] = await search({
        query: target.caption,
        imageIds: [`scene-${scene.seed}`],
        limit: 1,
      });
      expect(top?.mask.size).toEqual([scene.height, scene.width]);
      if (top && rleIou(top.mask, target.mask) >= 0.5) found++;
    }
    expect(asked).toBeGreaterThanOrEqual(4);
    // A tiny model on six scenes: most, not all, top-1 regions must be the described object.
    expect(found / asked).toBeGreaterThanOrEqual(0.6);
  });

  it("searches the whole library and returns the described object's image near the top", async () => {
    const scene = scenes.find((s) =>
      s.objects.some((o) => o.caption_unique && o.size === "large"),
    )!;
    const target = scene.objects.find((o) => o.caption_unique && o.size === "large")!;
    const results = await search({ query: target.caption, limit: 10 });
    const hit = results.find(
      (r) => r.imageId === `scene-${scene.seed}` && rleIou(r.mask, target.mask) >= 0.5,
    );
    expect(hit, `"${target.caption}" not in the library top 10`).toBeDefined();
    expect(results.map((r) => r.score)).toEqual(
      [...results.map((r) => r.score)].sort((a, b) => b - a),
    );
  });

  it("serves a returned region's mask and preview as PNG", async () => {
    const [top] = await search({ query: "a circle", limit: 1 });
    expect(top).toBeDefined();
    for (const suffix of ["mask.png", "preview.png"]) {
      const res = await server.app.request(`/v1/regions/${top!.regionId}/${suffix}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
    }
  });
});
