/**
 * Library retrieval per method (alpha-only, crop-only, dual-view, the tight-crop baseline), overall
 * and broken down by the queried object's size and pattern, scored in memory over the same regions
 * (views-metrics.ts). The stored vectors go through the real store separately (library.ts).
 */
import type { TextTower } from "../../../src/node/models/embedder.js";
import type { Views } from "../../../src/node/models/manifest.js";
import {
  buildQueries,
  libraryFigures,
  scoreView,
  type LibraryFigures,
  type ScoredScene,
} from "./views-metrics.js";
import type { Method, SceneOutcome } from "./scene-eval.js";
import type { ShapesScene } from "../../support/shapes.js";

export type LibraryMethod = Extract<Method, "dual" | "alpha" | "detail" | "crop">;

export interface LibraryBreakdown {
  all: LibraryFigures;
  bySize: Record<string, LibraryFigures>;
  byPattern: Record<string, LibraryFigures>;
}

export async function libraryByMethod(
  scenes: readonly ShapesScene[],
  outcomes: readonly SceneOutcome[],
  text: TextTower,
  views: Views | undefined,
): Promise<Partial<Record<LibraryMethod, LibraryBreakdown>>> {
  // View columns present in this run; `dual` is a weighting of `alpha` and `detail`.
  const columns = (["alpha", "detail", "crop"] as const).filter((m) => outcomes[0]?.vectors[m]);
  const scored: ScoredScene[] = outcomes.map((o, i) => ({
    scene: scenes[i]!,
    masks: o.extracted.regions.map((r) => r.mask),
    views: columns.map((m) => o.vectors[m]!),
  }));
  const queries = await buildQueries(scored, text);
  const viewScores = columns.map((_, k) => scoreView(scored, queries, k));
  const one = (m: string) => columns.map((c) => (c === m ? 1 : 0));
  const weights: Partial<Record<LibraryMethod, number[]>> = {};
  if (views && columns.includes("detail"))
    weights.dual = columns.map((c) =>
      c === "alpha" ? views.context.weight : c === "detail" ? views.detail.weight : 0,
    );
  for (const m of columns) weights[m] = one(m);
  const sizes = [...new Set(queries.library.map((q) => q.attrs.size))].sort();
  const patterns = [...new Set(queries.library.map((q) => q.attrs.pattern))].sort();
  const out: Partial<Record<LibraryMethod, LibraryBreakdown>> = {};
  for (const [m, w] of Object.entries(weights) as [LibraryMethod, number[]][]) {
    out[m] = {
      all: libraryFigures(queries, viewScores, w),
      bySize: Object.fromEntries(
        sizes.map((s) => [s, libraryFigures(queries, viewScores, w, (o) => o.size === s)]),
      ),
      byPattern: Object.fromEntries(
        patterns.map((p) => [p, libraryFigures(queries, viewScores, w, (o) => o.pattern === p)]),
      ),
    };
  }
  return out;
}
