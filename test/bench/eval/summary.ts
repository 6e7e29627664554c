/** Aggregating per-scene eval outcomes into the published figures, as JSON, Markdown and a chart. */
import { mean } from "../stats.js";
import { barChartSvg, markdownTable, type MachineInfo } from "../report.js";
import type { LibraryResult } from "./library.js";
import type { LibraryBreakdown, LibraryMethod } from "./library-methods.js";
import { MISS_KINDS, type MissKind } from "./failures.js";
import { IOU_HIT, rate } from "./metrics.js";
import { METHODS, type Method, type QueryOutcome, type SceneOutcome } from "./scene-eval.js";

export interface EvalRun {
  pack: string;
  split: string;
  /** The robustness subset: objects turned and partly hidden. */
  robust: boolean;
  scenes: number;
  seeds: string;
  quick: boolean;
  machine: MachineInfo;
  seconds: number;
}

type Kind = QueryOutcome["kind"] | "context";
const KINDS: readonly Kind[] = ["attribute", "context", "spatial", "comparative", "distractor"];
const isKind = (q: QueryOutcome, k: Kind) =>
  k === "context" ? q.kind !== "attribute" : q.kind === k;

/** Top-1 of attribute captions per method, by the target's size or pattern. */
function attributeBreakdown(
  queries: QueryOutcome[],
  methods: readonly Method[],
  key: "size" | "pattern",
) {
  const attr = queries.filter((q) => q.kind === "attribute");
  const values = [...new Set(attr.map((q) => q[key]))].sort();
  return Object.fromEntries(
    values.map((v) => {
      const qs = attr.filter((q) => q[key] === v);
      return [
        v,
        {
          queries: qs.length,
          ...Object.fromEntries(methods.map((m) => [m, rate(qs.map((q) => q.correct[m]))])),
        },
      ];
    }),
  ) as Record<string, Record<string, number>>;
}

export function summarise(
  outcomes: SceneOutcome[],
  library: LibraryResult,
  libraryMethods: Partial<Record<LibraryMethod, LibraryBreakdown>>,
  run: EvalRun,
) {
  const ious = outcomes.flatMap((o) => o.bestIous);
  const queries = outcomes.flatMap((o) => o.queries);
  const methods = METHODS.filter((m) => queries[0]?.correct[m] !== undefined);
  const referring: Record<string, Record<string, number> & { queries: number; reachable: number }> =
    {};
  for (const k of KINDS) {
    const qs = queries.filter((q) => isKind(q, k));
    const row = { queries: qs.length, reachable: rate(qs.map((q) => q.reachable)) } as Record<
      string,
      number
    > & { queries: number; reachable: number };
    for (const m of methods) row[m] = rate(qs.map((q) => q.correct[m]));
    referring[k] = row;
  }
  const misses: Record<string, Record<MissKind, number>> = {};
  for (const k of ["attribute", "context"] as const) {
    const qs = queries.filter((q) => isKind(q, k));
    misses[k] = Object.fromEntries(
      MISS_KINDS.map((m) => [m, rate(qs.map((q) => q.verdict === m))]),
    ) as Record<MissKind, number>;
  }
  const stages: Record<string, number> = {};
  for (const key of Object.keys(outcomes[0]?.timings ?? {}))
    stages[key] = mean(outcomes.map((o) => o.timings[key] ?? 0));
  return {
    run,
    segmentation: {
      objects: ious.length,
      recallAtIou50: rate(ious.map((v) => v >= IOU_HIT)),
      meanBestIou: mean(ious),
      regionsPerImage: mean(outcomes.map((o) => o.regionCount)),
    },
    referring,
    attributeBySize: attributeBreakdown(queries, methods, "size"),
    attributeByPattern: attributeBreakdown(queries, methods, "pattern"),
    misses,
    methods,
    /** The stored vectors through the real store (LanceDB, exact search). */
    library,
    libraryMethods,
    msPerImage: stages,
  };
}

export type EvalSummary = ReturnType<typeof summarise>;

const METHOD_LABEL: Record<Method, string> = {
  dual: "dual view (stored)",
  alpha: "Alpha-CLIP (alpha only)",
  detail: "CLIP: crop with margin (crop only)",
  crop: "CLIP: tight crop",
  masked: "CLIP: background masked",
  redCircle: "CLIP: red circle",
  wholeImage: "CLIP: whole image",
};

export function toMarkdown(s: EvalSummary): string {
  const seg = s.segmentation;
  const ref = markdownTable(
    ["method", ...KINDS.map((k) => `${k} (n=${s.referring[k]!.queries})`)],
    s.methods.map((m) => [METHOD_LABEL[m], ...KINDS.map((k) => s.referring[k]![m]!)]),
  );
  return [
    `### Quality: ${s.run.pack}, ${s.run.scenes} ${s.run.split} scenes (seeds ${s.run.seeds})${s.run.robust ? ", robustness subset (objects turned and partly hidden)" : ""}${s.run.quick ? ", quick mode" : ""}`,
    "",
    `Segmentation (AMG): recall of ground-truth objects at IoU ≥ 0.5 **${seg.recallAtIou50.toFixed(3)}**, mean best IoU ${seg.meanBestIou.toFixed(3)}, ${seg.regionsPerImage.toFixed(1)} regions/image (${seg.objects} objects).`,
    "",
    "Within-image referring, top-1 region IoU ≥ 0.5 (same AMG regions for every method):",
    "",
    ref,
    "",
    `Ceiling left by segmentation (some region overlaps the target): attribute ${s.referring["attribute"]!.reachable.toFixed(3)}, context ${s.referring["context"]!.reachable.toFixed(3)}.`,
    "",
    "Alpha-CLIP misses by kind, as a fraction of all queries of the row (test/bench/eval/failures.ts):",
    "",
    markdownTable(
      ["queries", ...MISS_KINDS],
      (["attribute", "context"] as const).map((k) => [
        k,
        ...MISS_KINDS.map((m) => s.misses[k]![m]),
      ]),
    ),
    "",
    "Attribute captions by the target's size and pattern (top-1):",
    "",
    breakdownTable(s.methods, { ...s.attributeBySize, ...s.attributeByPattern }),
    "",
    `Library retrieval over ${s.library.images} images / ${s.library.regions} regions, ${s.library.queries} attribute queries (exact ranking of the same regions; by the queried object's size and pattern):`,
    "",
    libraryTable(s.libraryMethods),
    "",
    `The stored vectors through the embedded store (LanceDB, exact search): recall@1 **${s.library.recallAt1.toFixed(3)}**, recall@10 **${s.library.recallAt10.toFixed(3)}**, mAP@100 ${s.library.mAP.toFixed(3)}.`,
    "",
    `Machine: ${s.run.machine.cpu}, ${s.run.machine.cores} cores; ${s.run.seconds.toFixed(0)} s in all.`,
  ].join("\n");
}

function breakdownTable(
  methods: readonly Method[],
  rows: Record<string, Record<string, number>>,
): string {
  const keys = Object.keys(rows);
  return markdownTable(
    ["method", ...keys.map((k) => `${k} (n=${rows[k]!["queries"]})`)],
    methods.map((m) => [METHOD_LABEL[m], ...keys.map((k) => rows[k]![m]!)]),
  );
}

function libraryTable(methods: Partial<Record<LibraryMethod, LibraryBreakdown>>): string {
  const entries = Object.entries(methods) as [LibraryMethod, LibraryBreakdown][];
  const first = entries[0]?.[1];
  if (!first) return "";
  const groups = [...Object.keys(first.bySize), ...Object.keys(first.byPattern)];
  const cell = (b: LibraryBreakdown, g: string) => (b.bySize[g] ?? b.byPattern[g])!.recallAt1;
  return markdownTable(
    ["method", "recall@1", "recall@10", "mAP@100", ...groups.map((g) => `R@1 ${g}`)],
    entries.map(([m, b]) => [
      METHOD_LABEL[m],
      b.all.recallAt1,
      b.all.recallAt10,
      b.all.mAP,
      ...groups.map((g) => cell(b, g)),
    ]),
  );
}

export function toChart(s: EvalSummary): string {
  const groups = (["attribute", "context"] as const).map((k) => ({
    label: k === "attribute" ? "attribute captions" : "context expressions",
    values: s.methods.map((m) => ({ name: METHOD_LABEL[m], value: s.referring[k]![m]! })),
  }));
  const lib = s.libraryMethods as Partial<Record<Method, LibraryBreakdown>>;
  groups.push({
    label: "library recall@1",
    values: s.methods.map((m) => ({
      name: METHOD_LABEL[m],
      value: lib[m]?.all.recallAt1 ?? Number.NaN,
    })),
  });
  return barChartSvg(
    `Within-image referring top-1 — ${s.run.pack}, ${s.run.scenes} scenes`,
    groups,
  );
}
