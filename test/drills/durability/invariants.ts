/**
 * What the durability drill promises, as pure functions over what it recorded and what it observed
 * after a restart, so the rules themselves are unit-tested (test/unit/drills/invariants.test.ts).
 *
 * 1. An image ever reported `indexed` stays indexed with the same regions (ids and count), and a
 *    search filtered to it returns exactly those regions.
 * 2. No image is half written: the store holds all of an image's regions or none — for an indexed
 *    record exactly `regionCount`, for one still in progress 0 or a complete run (indices 0..n−1).
 * 3. An acknowledged upload (202) is never lost: its record exists after every restart.
 */

/** What the drill knows about one image id across cycles. */
export interface Tracked {
  id: string;
  /** The upload was answered 202 (a POST cut off by the kill may or may not have stored it). */
  acknowledged: boolean;
  uploadedCycle: number;
  /** First `GET /v1/images/{id}` that said `indexed`. */
  indexed?: { regionCount: number; cycle: number };
  /** Region ids (sorted) first seen once indexed; later restarts must show the same. */
  regionIds?: string[];
  /** Cycles at whose restart the record was still `queued`/`processing` (re-queued by recovery). */
  recoveredAt: number[];
}

/** One image as seen after a restart, through the public API. */
export interface Observation {
  /** HTTP status of `GET /v1/images/{id}`. */
  httpStatus: number;
  record?: { status: string; regionCount: number | null };
  /** `GET /v1/images/{id}/regions`. */
  regions?: { regionId: string; regionIndex: number }[];
  /** Region ids of `POST /v1/search {imageIds:[id], limit: 100}`; only asked for indexed images. */
  searchIds?: string[];
}

export function newTracked(id: string, cycle: number): Tracked {
  return { id, acknowledged: false, uploadedCycle: cycle, recoveredAt: [] };
}

/** Violations of the invariants for one image; also records what a first `indexed` sighting fixes. */
export function judge(t: Tracked, obs: Observation, cycle: number): string[] {
  if (obs.httpStatus === 404)
    return t.acknowledged || t.indexed ? [`${t.id}: acknowledged image lost (404)`] : [];
  if (obs.httpStatus !== 200 || !obs.record)
    return [`${t.id}: GET /v1/images answered ${obs.httpStatus}`];
  const { status, regionCount } = obs.record;
  const regions = obs.regions ?? [];
  if (status === "failed") return [`${t.id}: ingestion failed for a valid scene`];
  if (status !== "indexed") {
    if (t.indexed)
      return [`${t.id}: was reported indexed in cycle ${t.indexed.cycle}, now ${status}`];
    if (!t.recoveredAt.includes(cycle)) t.recoveredAt.push(cycle);
    return isCompleteRun(regions)
      ? []
      : [`${t.id}: half written while ${status}: region indices ${indices(regions)}`];
  }
  return judgeIndexed(t, regionCount ?? -1, regions, obs.searchIds, cycle);
}

function judgeIndexed(
  t: Tracked,
  regionCount: number,
  regions: { regionId: string }[],
  searchIds: string[] | undefined,
  cycle: number,
): string[] {
  const out: string[] = [];
  const ids = regions.map((r) => r.regionId).sort();
  if (ids.length !== regionCount)
    out.push(
      `${t.id}: indexed with regionCount ${regionCount} but the store holds ${ids.length} regions`,
    );
  if (t.indexed && t.indexed.regionCount !== regionCount)
    out.push(`${t.id}: regionCount changed ${t.indexed.regionCount} → ${regionCount}`);
  if (t.regionIds && !sameIds(t.regionIds, ids))
    out.push(`${t.id}: region ids changed since first indexed`);
  if (searchIds && !sameIds([...searchIds].sort(), ids))
    out.push(
      `${t.id}: search filtered to the image returned ${searchIds.length} of ${ids.length} regions`,
    );
  t.indexed ??= { regionCount, cycle };
  if (out.length === 0) t.regionIds ??= ids;
  return out;
}

/** Regions of one ingest run: indices exactly 0..n−1, each once (n = 0 included). */
export function isCompleteRun(regions: { regionIndex: number }[]): boolean {
  const seen = regions.map((r) => r.regionIndex).sort((a, b) => a - b);
  return seen.every((v, i) => v === i);
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function indices(regions: { regionIndex: number }[]): string {
  return regions
    .map((r) => r.regionIndex)
    .sort((a, b) => a - b)
    .join(",");
}
