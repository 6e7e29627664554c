/**
 * One scene through the full pipeline: AMG regions with their stored vectors, segmentation recall
 * against the generator's masks, and within-image referring top-1 for every method: the stored
 * dual-view vector, each of its views alone (Alpha-CLIP context, plain-CLIP crop with the pack's
 * margin) and the paper's plain-CLIP baselines on the same regions.
 */
import { readFileSync } from "node:fs";
import { rleDecodeToRowMajor, rleIou } from "../../../src/lib/masks/rle.js";
import type { ExtractedImage, RegionExtractor } from "../../../src/lib/services.js";
import type { TextTower } from "../../../src/node/models/embedder.js";
import type { ModelPack } from "../../../src/node/models/pack.js";
import { queryDetailWeight, splitView, textForViews } from "../../../src/node/models/views.js";
import { decodeImage } from "../../../src/node/imaging/index.js";
import type { ShapesScene } from "../../support/shapes.js";
import { BASELINES, baselineImages, clipImageVectors, type Baseline } from "./baselines.js";
import { classifyTopRegion, counted, type QueryVerdict } from "./failures.js";
import { IOU_HIT, argmax, dot } from "./metrics.js";

/** `dual`: the stored vector; `alpha`, `detail`: its views alone; then the paper's baselines. */
export type Method = "dual" | "alpha" | "detail" | Baseline;
export const METHODS: readonly Method[] = ["dual", "alpha", "detail", ...BASELINES];

export interface QueryOutcome {
  kind: "attribute" | "spatial" | "comparative" | "distractor";
  /** The target object's size and pattern (the breakdowns). */
  size: string;
  pattern: string;
  /** Some region overlaps the target at IoU ≥ 0.5 (the ceiling segmentation leaves). */
  reachable: boolean;
  correct: Record<Method, boolean>;
  /** Why Alpha-CLIP's top-1 region hit or missed (see failures.ts). */
  verdict: QueryVerdict;
}

export interface SceneOutcome {
  seed: number;
  bestIous: number[];
  regionCount: number;
  timings: Record<string, number>;
  queries: QueryOutcome[];
  extracted: ExtractedImage;
  /** Per method, one unit vector per region (methods the run has). */
  vectors: Partial<Record<Method, Float32Array[]>>;
}

/** The stored vectors split into the methods they stand for (a pack without views: alpha only). */
function pipelineVectors(
  pack: ModelPack,
  extracted: ExtractedImage,
): Partial<Record<Method, Float32Array[]>> {
  const views = pack.manifest.embedder.views;
  const stored = extracted.regions.map((r) => r.vector);
  if (!views) return { alpha: stored };
  return {
    dual: stored,
    alpha: stored.map((v) => splitView(v, "context", views)!),
    detail: stored.map((v) => splitView(v, "detail", views)!),
  };
}

async function baselineVectors(
  pack: ModelPack,
  bytes: Uint8Array,
  extracted: ExtractedImage,
  vectors: Partial<Record<Method, Float32Array[]>>,
) {
  const image = await decodeImage(bytes);
  const regions = extracted.regions.map((r) => ({
    bbox: r.bbox,
    mask: rleDecodeToRowMajor(r.mask),
  }));
  for (const kind of BASELINES) {
    const out = await clipImageVectors(pack, baselineImages(kind, image, regions, pack));
    // The whole image gives one vector for every region: ranking falls back to AMG order.
    vectors[kind] = kind === "wholeImage" ? regions.map(() => out[0]!) : out;
  }
}

function topRegion(text: Float32Array, vectors: Float32Array[]): number {
  return argmax(vectors.map((v) => dot(text, v)));
}

export async function evaluateScene(
  scene: ShapesScene,
  deps: { pack: ModelPack; extractor: RegionExtractor; text: TextTower; baselines: boolean },
): Promise<SceneOutcome> {
  const bytes = new Uint8Array(readFileSync(scene.png));
  const extracted = await deps.extractor.extract(bytes);
  const regionMasks = extracted.regions.map((r) => r.mask);
  const bestIous = scene.objects.map((o) =>
    Math.max(0, ...regionMasks.map((m) => rleIou(m, o.mask))),
  );
  const vectors = pipelineVectors(deps.pack, extracted);
  if (deps.baselines) await baselineVectors(deps.pack, bytes, extracted, vectors);
  const views = deps.pack.manifest.embedder.views;

  const asks = [
    ...scene.objects
      .filter((o) => o.caption_unique)
      .map((o) => ({ kind: "attribute" as const, text: o.caption, target: o.index })),
    ...scene.expressions.map((e) => ({ kind: e.kind, text: e.text, target: e.target })),
  ];
  const textVectors = await deps.text.embed(asks.map((a) => a.text));
  const methods = METHODS.filter((m) => vectors[m]);
  const objectMasks = scene.objects.map((o) => counted(rleDecodeToRowMajor(o.mask)));
  const decoded = new Map<number, ReturnType<typeof counted>>();
  const decodedRegion = (i: number) =>
    decoded.get(i) ?? decoded.set(i, counted(rleDecodeToRowMajor(regionMasks[i]!))).get(i)!;
  const queries = asks.map((ask, i): QueryOutcome => {
    const target = scene.objects[ask.target]!.mask;
    const reachable = bestIous[ask.target]! >= IOU_HIT;
    const correct = {} as Record<Method, boolean>;
    for (const m of methods) {
      // The stored vectors are queried as the search path queries them (createTextEmbedder).
      const query =
        m === "dual" && views
          ? textForViews(textVectors[i]!, queryDetailWeight(ask.text, views))
          : textVectors[i]!;
      const best = topRegion(query, vectors[m]!);
      correct[m] = best >= 0 && rleIou(regionMasks[best]!, target) >= IOU_HIT;
    }
    const top = topRegion(textVectors[i]!, vectors.alpha!);
    const verdict = classifyTopRegion(
      top >= 0 ? decodedRegion(top) : null,
      ask.target,
      objectMasks,
      reachable,
    );
    const { size, pattern } = scene.objects[ask.target]!;
    return { kind: ask.kind, size, pattern, reachable, correct, verdict };
  });
  return {
    seed: scene.seed,
    bestIous,
    regionCount: extracted.regions.length,
    timings: extracted.timings,
    queries,
    extracted,
    vectors,
  };
}
