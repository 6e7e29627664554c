/**
 * The extractor's worker thread runs one extraction at a time, in arrival order, even when the
 * queue has several jobs in flight (INGEST_CONCURRENCY > 1).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModels, type Models } from "../../src/node/server/models.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";

let models: Models;
const scenes = readShapesSplit(SHAPES_FIXTURE_DIR, 3);

beforeAll(async () => {
  models = await loadModels({
    packDir: "models/shapes-tiny",
    session: { intraOpNumThreads: 1, interOpNumThreads: 1 },
    extractor: { amg: { pointsPerSide: 4 } },
  });
}, 120_000);

afterAll(async () => {
  await models?.release();
});

describe("worker extractor", () => {
  it("answers concurrent requests in order without interleaving them", async () => {
    const t0 = performance.now();
    const results = await Promise.all(
      scenes.map((s) => models.extractor.extract(readFileSync(s.png))),
    );
    const wall = performance.now() - t0;
    expect(results.map((r) => [r.width, r.height])).toEqual(scenes.map((s) => [s.width, s.height]));
    // Interleaved, each image's total would include the others' stages and the totals would add
    // up to more than the wall time they all took together.
    const totals = results.map((r) => r.timings["total"]!);
    expect(totals.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(wall);
  }, 120_000);
});
