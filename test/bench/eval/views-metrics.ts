/**
 * Library retrieval and within-image referring scored for any weighting of a region's views
 * (alpha-only `[1, 0]`, crop-only `[0, 1]`, dual `[1 − w, w]`), exact and in memory. Each view's
 * dot products with every query are computed once (`scoreViews`), so a weighting costs only sums:
 * the tuner tries a whole grid without re-running a model. A library hit is a region whose mask
 * overlaps (IoU ≥ 0.5) an object of the scene with all four attributes of the caption, each object
 * counted once; a referring hit is the top region overlapping the target at IoU ≥ 0.5.
 */
import { rleIou } from "../../../src/lib/masks/rle.js";
import type { CocoRle } from "../../../src/lib/masks/types.js";
import type { TextTower } from "../../../src/node/models/embedder.js";
import { attributesOf, type ShapesObject, type ShapesScene } from "../../support/shapes.js";
import { IOU_HIT, averagePrecision, dot, rate } from "./metrics.js";

/** One scene's regions: masks, and per view one unit vector per region (`views[k][region]`). */
export interface ScoredScene {
  scene: ShapesScene;
  masks: CocoRle[];
  views: Float32Array[][];
}

export type ReferringKind = "attribute" | "spatial" | "comparative" | "distractor";

interface Ask {
  kind: ReferringKind;
  target: ShapesObject;
  text: string;
}

/** The queries of a set of scenes with their text vectors and the relevance of every region. */
export interface QuerySet {
  /** Library queries: one per attribute combination present, with its relevant object count. */
  library: { attrs: ShapesObject; caption: string; vector: Float32Array; relevantCount: number }[];
  /** For library query q and global region r: the relevant object id it matches, or null. */
  relevant: (string | null)[][];
  /** Within-image queries per scene, with the IoU ≥ 0.5 flag of each region for the target. */
  asks: { ask: Ask; vector: Float32Array; hit: boolean[] }[][];
  regionCount: number;
}

export async function buildQueries(
  scenes: readonly ScoredScene[],
  text: TextTower,
): Promise<QuerySet> {
  const captions = new Map<string, ShapesObject>();
  for (const s of scenes)
    for (const o of s.scene.objects)
      if (!captions.has(attributesOf(o))) captions.set(attributesOf(o), o);
  const libTexts = [...captions.values()];
  const libVectors = await embedAll(
    text,
    libTexts.map((o) => o.caption),
  );
  const ious = scenes.map((s) => s.masks.map((m) => s.scene.objects.map((o) => rleIou(m, o.mask))));
  const relevant = libTexts.map((q) =>
    scenes.flatMap((s, si) =>
      s.masks.map((_, ri) => {
        const match = s.scene.objects.find(
          (o, oi) => attributesOf(o) === attributesOf(q) && ious[si]![ri]![oi]! >= IOU_HIT,
        );
        return match ? `${s.scene.seed}/${match.index}` : null;
      }),
    ),
  );
  const library = libTexts.map((o, i) => ({
    attrs: o,
    caption: o.caption,
    vector: libVectors[i]!,
    relevantCount: scenes.reduce(
      (n, s) => n + s.scene.objects.filter((x) => attributesOf(x) === attributesOf(o)).length,
      0,
    ),
  }));
  const askLists = scenes.map((s) => [
    ...s.scene.objects
      .filter((o) => o.caption_unique)
      .map((o): Ask => ({ kind: "attribute", target: o, text: o.caption })),
    ...s.scene.expressions.map((e): Ask => ({
      kind: e.kind,
      target: s.scene.objects[e.target]!,
      text: e.text,
    })),
  ]);
  const askVectors = await embedAll(
    text,
    askLists.flat().map((a) => a.text),
  );
  let k = 0;
  const asks = askLists.map((list, si) =>
    list.map((ask) => ({
      ask,
      vector: askVectors[k++]!,
      hit: ious[si]!.map((row) => row[ask.target.index]! >= IOU_HIT),
    })),
  );
  return { library, relevant, asks, regionCount: scenes.reduce((n, s) => n + s.masks.length, 0) };
}

async function embedAll(text: TextTower, texts: readonly string[]): Promise<Float32Array[]> {
  const unique = [...new Set(texts)];
  const out = new Map<string, Float32Array>();
  for (let i = 0; i < unique.length; i += 64) {
    const batch = unique.slice(i, i + 64);
    (await text.embed(batch)).forEach((v, j) => out.set(batch[j]!, v));
  }
  return texts.map((t) => out.get(t)!);
}

/** One view's dot products: `library[q][r]` over all regions, `referring[scene][ask][region]`. */
export interface ViewScores {
  library: Float32Array[];
  referring: Float32Array[][];
}

/** Dot products of view `k` of every region with every query (text vectors as the pack gives them). */
export function scoreView(
  scenes: readonly ScoredScene[],
  queries: QuerySet,
  k: number,
): ViewScores {
  const all = scenes.flatMap((s) => s.views[k]!);
  return {
    library: queries.library.map((q) => Float32Array.from(all, (v) => dot(v, q.vector))),
    referring: scenes.map((s, si) =>
      queries.asks[si]!.map((a) => Float32Array.from(s.views[k]!, (v) => dot(v, a.vector))),
    ),
  };
}

const weighted = (views: readonly Float32Array[], weights: readonly number[]) => {
  const out = new Float32Array(views[0]!.length);
  views.forEach((v, k) => {
    if (weights[k]) for (let i = 0; i < v.length; i++) out[i]! += weights[k]! * v[i]!;
  });
  return out;
};

function topK(scores: Float32Array, k: number): number[] {
  const idx = Array.from(scores.keys());
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, k);
}

export interface LibraryFigures {
  queries: number;
  recallAt1: number;
  recallAt10: number;
  mAP: number;
}

/** Library recall@1/@10 and mAP@100 for `weights` over `views`; `only` selects queries (breakdowns). */
export function libraryFigures(
  queries: QuerySet,
  views: readonly ViewScores[],
  weights: readonly number[],
  only: (o: ShapesObject) => boolean = () => true,
): LibraryFigures {
  const hit1: boolean[] = [],
    hit10: boolean[] = [],
    aps: number[] = [];
  queries.library.forEach((q, qi) => {
    if (!only(q.attrs)) return;
    const ranked = topK(
      weighted(
        views.map((v) => v.library[qi]!),
        weights,
      ),
      100,
    ).map((r) => queries.relevant[qi]![r]!);
    hit1.push(ranked.slice(0, 1).some((x) => x !== null));
    hit10.push(ranked.slice(0, 10).some((x) => x !== null));
    aps.push(averagePrecision(ranked, q.relevantCount));
  });
  return {
    queries: hit1.length,
    recallAt1: rate(hit1),
    recallAt10: rate(hit10),
    mAP: aps.reduce((a, b) => a + b, 0) / Math.max(1, aps.length),
  };
}

/** Within-image top-1 rate over the asks `only` selects, for `weights` over `views`. */
export function referringFigure(
  queries: QuerySet,
  views: readonly ViewScores[],
  weights: readonly number[],
  only: (a: Ask) => boolean,
): { queries: number; top1: number } {
  const flags: boolean[] = [];
  queries.asks.forEach((list, si) =>
    list.forEach((a, ai) => {
      if (!only(a.ask)) return;
      const scores = weighted(
        views.map((v) => v.referring[si]![ai]!),
        weights,
      );
      const best = scores.length === 0 ? -1 : topK(scores, 1)[0]!;
      flags.push(best >= 0 && a.hit[best]!);
    }),
  );
  return { queries: flags.length, top1: rate(flags) };
}

/** The tuner's two headline numbers for one weighting. */
export async function libraryMetrics(
  scenes: readonly ScoredScene[],
  text: TextTower,
  weights: readonly number[],
) {
  const q = await cachedQueries(scenes, text);
  const v = cachedViews(scenes, q);
  return libraryFigures(q, v, weights);
}

/**
 * Within-image top-1 of attribute captions and context expressions. With `relationWords`, a query
 * holding one ranks on view 0 alone, as the search path does (`queryDetailWeight`).
 */
export async function referringTop1(
  scenes: readonly ScoredScene[],
  text: TextTower,
  weights: readonly number[],
  relationWords: readonly string[] = [],
) {
  const q = await cachedQueries(scenes, text);
  const v = cachedViews(scenes, q);
  const relational = (a: Ask) =>
    a.text
      .toLowerCase()
      .split(/[^a-z]+/)
      .some((w) => relationWords.includes(w));
  const contextOnly = weights.map((_, k) => (k === 0 ? 1 : 0));
  const top1 = (only: (a: Ask) => boolean) => {
    const plain = referringFigure(q, v, weights, (a) => only(a) && !relational(a));
    const routed = referringFigure(q, v, contextOnly, (a) => only(a) && relational(a));
    const hits = (f: { queries: number; top1: number }) => (f.queries ? f.top1 * f.queries : 0);
    return (hits(plain) + hits(routed)) / Math.max(1, plain.queries + routed.queries);
  };
  return {
    attribute: top1((a) => a.kind === "attribute"),
    context: top1((a) => a.kind !== "attribute"),
  };
}

// The tuner calls the two functions above for many weightings of the same scenes.
const queryCache = new WeakMap<readonly ScoredScene[], Promise<QuerySet>>();
const viewCache = new WeakMap<readonly ScoredScene[], ViewScores[]>();
function cachedQueries(scenes: readonly ScoredScene[], text: TextTower): Promise<QuerySet> {
  let q = queryCache.get(scenes);
  if (!q) queryCache.set(scenes, (q = buildQueries(scenes, text)));
  return q;
}
function cachedViews(scenes: readonly ScoredScene[], q: QuerySet): ViewScores[] {
  let v = viewCache.get(scenes);
  if (!v) viewCache.set(scenes, (v = scenes[0]!.views.map((_, k) => scoreView(scenes, q, k))));
  return v;
}
