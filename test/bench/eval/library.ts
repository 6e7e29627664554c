/**
 * Library retrieval: every region of every evaluated scene goes into the embedded store (the real
 * LanceDB adapter), then each attribute caption present in the library is searched across all of it.
 * A result is relevant when its mask overlaps (IoU ≥ 0.5) a ground-truth object that has all four
 * attributes of the caption; each object counts once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { rleIou } from "../../../src/lib/masks/rle.js";
import { pointId } from "../../../src/lib/store/ids.js";
import type { StoredPoint } from "../../../src/lib/store/types.js";
import type { TextEmbedder } from "../../../src/lib/services.js";
import { LanceVectorStore } from "../../../src/node/store/lance.js";
import { attributesOf, type ShapesScene } from "../../support/shapes.js";
import { IOU_HIT, averagePrecision, rate } from "./metrics.js";
import type { SceneOutcome } from "./scene-eval.js";

export interface LibraryResult {
  images: number;
  regions: number;
  queries: number;
  recallAt1: number;
  recallAt10: number;
  mAP: number;
}

const TENANT = "eval";
const DEPTH = 100;

function toPoints(outcome: SceneOutcome, pack: string): StoredPoint[] {
  const imageId = `scene-${outcome.seed}`;
  return outcome.extracted.regions.map((r, i) => ({
    id: pointId(TENANT, imageId, i, pack),
    vector: r.vector,
    payload: {
      tenant: TENANT,
      imageId,
      kind: "region",
      regionIndex: i,
      bbox: r.bbox,
      area: r.area,
      predictedIou: r.predictedIou,
      stability: r.stability,
      mask: r.mask,
      pack,
      imageWidth: outcome.extracted.width,
      imageHeight: outcome.extracted.height,
      createdAt: new Date(0).toISOString(),
    },
  }));
}

/** `text`: the search path's embedder (laid out for the pack's views, as the stored vectors are). */
export async function evaluateLibrary(
  scenes: ShapesScene[],
  outcomes: SceneOutcome[],
  text: TextEmbedder,
  pack: string,
): Promise<LibraryResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "eval-lib-"));
  const store = await LanceVectorStore.open({ dir });
  let regions = 0;
  for (const o of outcomes) {
    const points = toPoints(o, pack);
    regions += points.length;
    await store.upsert(TENANT, points);
  }
  const byImage = new Map(scenes.map((s) => [`scene-${s.seed}`, s]));
  // One query per distinct caption whose four attributes occur in the library.
  const captions = new Map<string, string>();
  for (const s of scenes) for (const o of s.objects) captions.set(attributesOf(o), o.caption);

  const hit1: boolean[] = [],
    hit10: boolean[] = [],
    aps: number[] = [];
  for (const [attrs, caption] of captions) {
    const relevantCount = scenes.reduce(
      (n, s) => n + s.objects.filter((o) => attributesOf(o) === attrs).length,
      0,
    );
    const vector = await text.embedText(caption);
    const hits = await store.search(TENANT, vector, { limit: DEPTH, exact: true });
    const relevantAt = hits.map((h) => {
      const scene = byImage.get(h.payload.imageId)!;
      const match = scene.objects.find(
        (o) => attributesOf(o) === attrs && rleIou(h.payload.mask!, o.mask) >= IOU_HIT,
      );
      return match ? `${h.payload.imageId}/${match.index}` : null;
    });
    hit1.push(relevantAt.slice(0, 1).some((x) => x !== null));
    hit10.push(relevantAt.slice(0, 10).some((x) => x !== null));
    aps.push(averagePrecision(relevantAt, relevantCount));
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    images: outcomes.length,
    regions,
    queries: captions.size,
    recallAt1: rate(hit1),
    recallAt10: rate(hit10),
    mAP: aps.reduce((a, b) => a + b, 0) / Math.max(1, aps.length),
  };
}
