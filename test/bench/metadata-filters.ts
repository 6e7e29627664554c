/**
 * `npm run bench:filters [-- --regions 100000] [--dim 128] [--queries 200] [--out DIR]`: search
 * latency of the embedded store (LanceDB, its ANN index built as it is past 50 000 rows) with a
 * metadata filter against no filter, in the same run on the same table, plus recall@10 of each
 * filtered ANN search against the exact filtered scan. Synthetic clustered vectors (store-scale.ts);
 * 10 regions per image, each image with metadata: `cat` (1 of 10), `price` (0–1000), `tags` (2 of
 * 20), `sku` (unique).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseMetadataFilter } from "../../src/lib/metadata/index.js";
import type { Metadata, MetadataFilter, StoredPoint } from "../../src/lib/store/types.js";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { machineInfo, markdownTable, writeResults } from "./report.js";
import { percentile, seededRandom } from "./stats.js";
import { bulkLoad, mixture } from "./store-scale.js";

const { values: args } = parseArgs({
  options: {
    regions: { type: "string", default: "100000" },
    dim: { type: "string", default: "128" },
    queries: { type: "string", default: "200" },
    out: { type: "string", default: "results/metadata-filters" },
  },
});

const TENANT = "bench";

function metadataOf(imageIndex: number): Metadata {
  const rand = seededRandom(imageIndex + 1);
  const tag = () => `t${Math.floor(rand() * 20)}`;
  return {
    cat: `c${imageIndex % 10}`,
    price: Math.round(rand() * 100_000) / 100,
    tags: [tag(), tag()],
    sku: `sku-${imageIndex}`,
  };
}

/** The filters measured; the `sku` one names an image in the middle of the library. */
const filters = (regions: number): [string, unknown][] => [
  ["none", undefined],
  ["cat = c3 (10% of images)", { must: [{ key: "cat", match: { value: "c3" } }] }],
  ["tags any [t1, t2] (~19%)", { must: [{ key: "tags", match: { any: ["t1", "t2"] } }] }],
  ["price in [100, 300] (20%)", { must: [{ key: "price", range: { gte: 100, lte: 300 } }] }],
  [
    "cat any 3, price ≤ 500, not t5 (~14%)",
    {
      must: [
        { key: "cat", match: { any: ["c1", "c2", "c3"] } },
        { key: "price", range: { lte: 500 } },
      ],
      must_not: [{ key: "tags", match: { value: "t5" } }],
    },
  ],
  [
    "sku = one image (10 regions)",
    { must: [{ key: "sku", match: { value: `sku-${Math.floor(regions / 20)}` } }] },
  ],
];

interface Row {
  filter: string;
  p50: number;
  p99: number;
  recallAt10: number;
  hitsPerQuery: number;
}

async function run(
  store: LanceVectorStore,
  queries: Float32Array[],
  metadata: MetadataFilter | undefined,
  exact: boolean,
) {
  const times: number[] = [];
  const hits: string[][] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const res = await store.search(TENANT, q, {
      limit: 10,
      exact,
      filter: { kind: "region", ...(metadata ? { metadata } : {}) },
    });
    times.push(performance.now() - t0);
    hits.push(res.map((h) => h.id));
  }
  return { times, hits };
}

async function main(): Promise<void> {
  const regions = Number(args.regions);
  const dim = Number(args.dim);
  const queryCount = Number(args.queries);
  const dir = mkdtempSync(path.join(tmpdir(), "filters-"));
  const sample = mixture(dim, Math.max(50, Math.round(regions / 200)), 7);
  const withMetadata = (p: StoredPoint): StoredPoint => {
    const image = Number(p.payload.imageId.slice("img-".length));
    return {
      ...p,
      payload: { ...p.payload, name: `${p.payload.imageId}.jpg`, metadata: metadataOf(image) },
    };
  };
  console.log(`bench:filters: loading ${regions} regions (${dim}-d)…`);
  await bulkLoad(dir, regions, dim, sample, withMetadata);
  const store = await LanceVectorStore.open({ dir, indexThreshold: Number.MAX_SAFE_INTEGER });
  const t0 = performance.now();
  await store.buildIndexes();
  const indexSeconds = (performance.now() - t0) / 1000;
  const queries = Array.from({ length: queryCount }, () => sample());
  await run(store, queries.slice(0, 5), undefined, false); // warm caches
  const rows: Row[] = [];
  const FILTERS = filters(regions);
  // Interleaved rounds, so a drift of the shared machine does not favour one filter.
  const times = new Map<string, number[]>(FILTERS.map(([name]) => [name, []]));
  const approxHits = new Map<string, string[][]>();
  for (const [name, raw] of FILTERS) {
    const filter = raw === undefined ? undefined : parseMetadataFilter(raw);
    const ann = await run(store, queries, filter, false);
    times.get(name)!.push(...ann.times);
    approxHits.set(name, ann.hits);
  }
  for (const [name, raw] of FILTERS) {
    const filter = raw === undefined ? undefined : parseMetadataFilter(raw);
    const ann = await run(store, queries, filter, false);
    times.get(name)!.push(...ann.times);
    const exact = await run(store, queries, filter, true);
    let found = 0;
    exact.hits.forEach((truth, i) => {
      const got = new Set(approxHits.get(name)![i]);
      found += truth.length === 0 ? 1 : truth.filter((id) => got.has(id)).length / truth.length;
    });
    const all = times.get(name)!;
    rows.push({
      filter: name,
      p50: percentile(all, 50),
      p99: percentile(all, 99),
      recallAt10: found / queries.length,
      hitsPerQuery: exact.hits.reduce((a, h) => a + h.length, 0) / queries.length,
    });
    console.log(`  ${name}: p50 ${rows.at(-1)!.p50.toFixed(2)} ms`);
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const machine = machineInfo();
  const result = { machine, regions, dim, queries: queryCount, indexSeconds, rows };
  const md = [
    `### Metadata filters on the embedded store (LanceDB), ${regions} regions, on ${machine.cpu}, ${machine.cores} cores`,
    "",
    `Synthetic clustered ${dim}-d vectors, ANN index built (IVF_HNSW_SQ, ${indexSeconds.toFixed(0)} s), top-10 regions, ` +
      `${queryCount} queries × 2 rounds per filter; recall@10 against the exact filtered scan:`,
    "",
    markdownTable(
      ["filter", "p50 ms", "p99 ms", "recall@10", "hits/query"],
      rows.map((r) => [r.filter, r.p50, r.p99, r.recallAt10, r.hitsPerQuery]),
      2,
    ),
  ].join("\n");
  const files = await writeResults(args.out, "metadata-filters", result, md);
  console.log(md);
  console.log(`\nwrote ${files.join(", ")}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
