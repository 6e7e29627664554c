/** Looking at images through the public API after a restart (the drill's eyes). */
import { mapLimit, postJson, requestJson } from "../lib/http.js";
import type { Observation } from "./invariants.js";

interface RecordJson {
  status: string;
  regionCount: number | null;
}
interface RegionsJson {
  regions: { regionId: string; regionIndex: number }[];
}
interface SearchJson {
  results: { regionId: string; imageId: string }[];
}

/** Record, its regions in the store, and — once indexed — a search filtered to the image. */
export async function observe(baseUrl: string, id: string): Promise<Observation> {
  const rec = await requestJson<RecordJson>(`${baseUrl}/v1/images/${encodeURIComponent(id)}`);
  if (rec.status !== 200 || !rec.body) return { httpStatus: rec.status };
  const regions = await requestJson<RegionsJson>(
    `${baseUrl}/v1/images/${encodeURIComponent(id)}/regions`,
  );
  const obs: Observation = {
    httpStatus: 200,
    record: rec.body,
    regions: regions.body?.regions ?? [],
  };
  if (rec.body.status !== "indexed") return obs;
  // Any caption will do: with limit 100 (> any image's region count) every region of the image comes back.
  const search = await postJson<SearchJson>(`${baseUrl}/v1/search`, {
    query: "a shape",
    imageIds: [id],
    limit: 100,
  });
  obs.searchIds = (search.body?.results ?? [])
    .filter((r) => r.imageId === id)
    .map((r) => r.regionId);
  return obs;
}

export function observeAll(baseUrl: string, ids: readonly string[]): Promise<Observation[]> {
  return mapLimit(ids, 4, (id) => observe(baseUrl, id));
}

/** Status of a record, or null when unreachable/absent (used while polling during a cycle). */
export async function peekStatus(baseUrl: string, id: string): Promise<RecordJson | null> {
  try {
    const res = await requestJson<RecordJson>(
      `${baseUrl}/v1/images/${encodeURIComponent(id)}`,
      {},
      2000,
    );
    return res.status === 200 ? (res.body ?? null) : null;
  } catch {
    return null;
  }
}
