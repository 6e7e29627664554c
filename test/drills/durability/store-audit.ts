/**
 * The drill's last look, with the server stopped: the catalog and the LanceDB table read directly,
 * every point accounted for. Each indexed image holds exactly regionCount + 1 points (its regions
 * and the whole-image point), each region index once; no point belongs to an image without a record.
 */
import { FileCatalog } from "../../../src/node/catalog/file-catalog.js";
import { LanceVectorStore } from "../../../src/node/store/lance.js";
import path from "node:path";

export interface StoreAudit {
  records: number;
  indexedRecords: number;
  points: number;
  expectedPoints: number;
  /** Image ids with points but no record (orphans a crash left behind). */
  orphanImages: string[];
  problems: string[];
}

const TENANT = "default";

export async function auditStore(dataDir: string): Promise<StoreAudit> {
  const catalog = new FileCatalog(dataDir);
  const store = await LanceVectorStore.open({ dir: path.join(dataDir, "vectors") });
  try {
    const records = await catalog.list(TENANT);
    const byImage = await pointsByImage(store);
    const problems: string[] = [];
    let expectedPoints = 0;
    for (const r of records) {
      const indices = byImage.get(r.id) ?? [];
      byImage.delete(r.id);
      if (r.status !== "indexed") {
        problems.push(`${r.id}: still ${r.status} after the final drain`);
        continue;
      }
      expectedPoints += (r.regionCount ?? 0) + 1;
      const want = Array.from({ length: (r.regionCount ?? 0) + 1 }, (_, i) => i - 1).join(",");
      const got = [...indices].sort((a, b) => a - b).join(",");
      if (got !== want)
        problems.push(`${r.id}: region indices [${got}] ≠ [-1..${(r.regionCount ?? 0) - 1}]`);
    }
    const points = await store.count(TENANT);
    return {
      records: records.length,
      indexedRecords: records.filter((r) => r.status === "indexed").length,
      points,
      expectedPoints,
      orphanImages: [...byImage.keys()],
      problems,
    };
  } finally {
    await store.close();
  }
}

/** imageId → region indices of its points (whole-image point = −1), paging through the whole table. */
async function pointsByImage(store: LanceVectorStore): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (let after: string | undefined; ;) {
    const page = await store.scan(TENANT, { limit: 1000, ...(after ? { after } : {}) });
    for (const p of page) {
      const list = out.get(p.payload.imageId) ?? [];
      list.push(p.payload.regionIndex);
      out.set(p.payload.imageId, list);
    }
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.id;
  }
}
