/**
 * Re-embedding stored images with a NEW model pack into a separate target (a new Qdrant collection,
 * a new LanceDB table) while the live index keeps serving: the images to re-embed (from the
 * catalog), one image's points under the new pack (stored bytes → new pack's extractor → points,
 * without touching the catalog record or the live store), and the loop that writes them with
 * per-image point counts (`reembedInto`), shared by `reindexQdrant` and `region-search reindex`.
 *
 * Resumable through a ledger: for every image written, the number of points it was written with
 * (regions + 1 whole-image point) and the sha256 of the record's bytes. A re-run skips an image only
 * when the target holds exactly that many of its points (so an image a crash left half-written, or
 * never recorded, is written again: `replaceImage` makes the new set the image's only points), and
 * the catalog still has the same bytes under its id.
 */
import { buildPoints, userFields } from "../ingest.js";
import type { BlobStore, ImageCatalog, RegionExtractor } from "../services.js";
import type { ImageFields, StoredPoint, VectorStore } from "./types.js";

export interface ImageToReembed {
  tenant: string;
  imageId: string;
  /** sha256 of the record's bytes when listed: an image re-uploaded under the same id is re-embedded. */
  sha256?: string;
  /** The record's name and metadata, copied into the new points. */
  fields?: ImageFields;
}

/** Indexed images of the given tenants, in a stable order (tenant, then id). */
export async function* indexedImages(
  catalog: ImageCatalog,
  tenants: readonly string[],
): AsyncGenerator<ImageToReembed> {
  for (const tenant of tenants) {
    const records = await catalog.list(tenant, { status: "indexed" });
    for (const r of records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
      yield { tenant, imageId: r.id, sha256: r.sha256, fields: userFields(r) };
  }
}

/**
 * `embed` for `reindexQdrant` / `reembedInto`: an image whose bytes are gone (deleted meanwhile)
 * yields no points, so the re-index goes on; an image the new extractor cannot read fails the run loudly.
 */
export function reembedWith(deps: {
  blobs: BlobStore;
  extractor: RegionExtractor;
  now?: () => Date;
}) {
  return async (image: ImageToReembed): Promise<StoredPoint[]> => {
    const blob = await deps.blobs.get(image.tenant, image.imageId);
    if (!blob) return [];
    const extracted = await deps.extractor.extract(blob.bytes);
    const createdAt = (deps.now ?? (() => new Date()))().toISOString();
    return buildPoints(
      { tenant: image.tenant, imageId: image.imageId },
      extracted,
      deps.extractor.pack,
      createdAt,
      image.fields,
    ).map((p) => ({
      ...p,
      payload: { ...p.payload, tenant: image.tenant },
    }));
  };
}

/** What one image was written to the target with. */
export interface LedgerEntry {
  /** Points written: the re-embed's regions + 1 whole-image point (0: its bytes were gone). */
  points: number;
  sha256?: string;
}

/** `tenant/imageId` → what it was written with. Tenants and ids cannot contain "/" (src/lib/safe-ids.ts). */
export type Ledger = Record<string, LedgerEntry>;

/** The ledger's (and `storedCounts`') key of an image. */
const ledgerKey = (tenant: string, imageId: string): string => `${tenant}/${imageId}`;

function splitKey(key: string): { tenant: string; imageId: string } {
  const slash = key.indexOf("/");
  return { tenant: key.slice(0, slash), imageId: key.slice(slash + 1) };
}

/**
 * Points of another model pack or vector length than the target holds. Vectors of different packs
 * are not comparable, so one index never mixes them: thrown before anything is written.
 */
export class LayoutMismatchError extends Error {
  override readonly name = "LayoutMismatchError";
}

/** What a target holds: the pack of its (first) point and its vector length; null = unknown (empty). */
export interface Layout {
  pack: string | null;
  dim: number | null;
}

/** Throws `LayoutMismatchError` when `held` (what a target already has) differs from `writing` (its pack: when known). */
export function checkLayout(
  where: string,
  held: Layout,
  writing: { pack?: string | undefined; dim: number },
): void {
  const problems: string[] = [];
  if (held.pack !== null && writing.pack !== undefined && held.pack !== writing.pack)
    problems.push(`its points are of model pack ${held.pack}, these of ${writing.pack}`);
  if (held.dim !== null && held.dim !== writing.dim)
    problems.push(`it holds ${held.dim}-dimensional vectors, these are ${writing.dim}-dimensional`);
  if (problems.length)
    throw new LayoutMismatchError(`refusing to mix layouts in ${where}: ${problems.join("; ")}`);
}

export interface ReembedProgress {
  pass: number;
  /** Images listed in this pass (those seen in an earlier pass excluded). */
  total: number;
  /** Images of this pass handled so far. */
  done: number;
  image: ImageToReembed;
  /** Whether this image was embedded now (false: the target already held it whole). */
  embedded: boolean;
  embeddedCount: number;
  skippedCount: number;
  /** Points written by this run. */
  points: number;
  /** The ledger as it stands (persist it to resume). */
  ledger: Ledger;
}

export interface ReembedOptions {
  /** The new pack's id: every point written must carry it. Default: the pack of the first point embedded. */
  pack?: string;
  /** The new pack's vector length: every point written must have it. Default: that of the first point. */
  dim?: number;
  /** Every image to re-embed, read once per pass (a later pass picks up images indexed meanwhile). */
  images: () => AsyncIterable<ImageToReembed> | Iterable<ImageToReembed>;
  /** The new pack's points of one image, all of `image.tenant` and `image.imageId`. */
  embed: (image: ImageToReembed) => Promise<StoredPoint[]>;
  /** From an earlier run into the same target; updated in place. Default: empty (everything is embedded). */
  ledger?: Ledger;
  /**
   * How a listed image with a ledger entry is known to be whole. `count` (default): the target holds
   * exactly `points` of its points (after a crash the target may hold part of an image). `ledger`:
   * the entry alone — only when the target was verified and nothing but this code wrote to it since.
   */
  trust?: "count" | "ledger";
  /** Stored points per image key read in one go (LanceDB: one column scan) instead of one count per image. */
  storedCounts?: () => Promise<Map<string, number>>;
  /** Passes over `images` at most, the first included; passes stop early once one finds nothing new. Default 2. */
  maxPasses?: number;
  /**
   * Tenants whose images the ledger has but the last pass no longer listed (deleted or failed since)
   * are removed from the target. Default: none.
   */
  pruneTenants?: readonly string[];
  /** Called once per pass before its first image, with the number of images it will look at. */
  onPass?: (pass: number, total: number) => void | Promise<void>;
  /** After every image; awaited, so a caller can persist the ledger first. */
  onProgress?: (progress: ReembedProgress) => void | Promise<void>;
}

export interface ReembedResult {
  /** Images listed (each once). */
  images: number;
  embedded: number;
  skipped: number;
  /** Images removed from the target because the catalog no longer lists them. */
  pruned: number;
  /** Points written by this run. */
  points: number;
  ledger: Ledger;
}

/**
 * Embeds every listed image the target does not hold whole into `target`, pass after pass while new
 * images turn up. Each image is one `replaceImage` (the new set becomes its only points), then its
 * points are counted back: a count that differs from what was written fails the run at that image.
 */
export async function reembedInto(target: VectorStore, o: ReembedOptions): Promise<ReembedResult> {
  const ledger = o.ledger ?? {};
  const layout = { pack: o.pack ?? null, dim: o.dim ?? null };
  const seen = new Set<string>();
  const result: ReembedResult = {
    images: 0,
    embedded: 0,
    skipped: 0,
    pruned: 0,
    points: 0,
    ledger,
  };
  let stored: Map<string, number> | null = null;

  const whole = async (image: ImageToReembed, key: string): Promise<boolean> => {
    const entry = ledger[key];
    if (!entry) return false;
    if (image.sha256 !== undefined && entry.sha256 !== undefined && image.sha256 !== entry.sha256)
      return false;
    if (o.trust === "ledger") return true;
    if (o.storedCounts) {
      stored ??= await o.storedCounts();
      return (stored.get(key) ?? 0) === entry.points;
    }
    return (await target.count(image.tenant, { imageIds: [image.imageId] })) === entry.points;
  };

  for (let pass = 1; pass <= (o.maxPasses ?? 2); pass++) {
    const listed: ImageToReembed[] = [];
    for await (const image of o.images()) {
      const key = ledgerKey(image.tenant, image.imageId);
      if (seen.has(key)) continue;
      seen.add(key);
      listed.push(image);
    }
    if (listed.length === 0 && pass > 1) break;
    await o.onPass?.(pass, listed.length);
    for (const [i, image] of listed.entries()) {
      const key = ledgerKey(image.tenant, image.imageId);
      const skip = await whole(image, key);
      if (!skip) {
        const points = await o.embed(image);
        checkPoints(points, image, layout);
        // Recorded as unknown until written and counted back: a crash in between re-embeds it.
        delete ledger[key];
        await target.replaceImage(image.tenant, image.imageId, points);
        const count = await target.count(image.tenant, { imageIds: [image.imageId] });
        if (count !== points.length) {
          throw new Error(
            `image ${key}: wrote ${points.length} points but the target holds ${count} of them`,
          );
        }
        ledger[key] = {
          points: points.length,
          ...(image.sha256 !== undefined ? { sha256: image.sha256 } : {}),
        };
        result.points += points.length;
      }
      result[skip ? "skipped" : "embedded"]++;
      result.images++;
      await o.onProgress?.({
        pass,
        total: listed.length,
        done: i + 1,
        image,
        embedded: !skip,
        embeddedCount: result.embedded,
        skippedCount: result.skipped,
        points: result.points,
        ledger,
      });
    }
  }

  if (o.pruneTenants?.length) {
    const scope = new Set(o.pruneTenants);
    for (const key of Object.keys(ledger)) {
      const { tenant, imageId } = splitKey(key);
      if (!scope.has(tenant) || seen.has(key)) continue;
      await target.deleteImage(tenant, imageId);
      delete ledger[key];
      result.pruned++;
    }
  }
  return result;
}

/** Fixes the layout on the first point when the caller did not name it; then every point must match it. */
function checkPoints(
  points: readonly StoredPoint[],
  image: ImageToReembed,
  layout: { pack: string | null; dim: number | null },
): void {
  for (const p of points) {
    layout.pack ??= p.payload.pack;
    layout.dim ??= p.vector.length;
    if (p.payload.tenant !== image.tenant || p.payload.imageId !== image.imageId) {
      throw new Error(
        `embed returned a point of ${ledgerKey(p.payload.tenant, p.payload.imageId)} for ${ledgerKey(image.tenant, image.imageId)}`,
      );
    }
    if (p.payload.pack !== layout.pack || p.vector.length !== layout.dim) {
      throw new LayoutMismatchError(
        `refusing to mix layouts: image ${ledgerKey(image.tenant, image.imageId)} produced a ${p.vector.length}-dimensional point of ` +
          `model pack ${p.payload.pack}, but this re-index writes ${layout.dim}-dimensional points of ${layout.pack}`,
      );
    }
  }
}

export interface CountMismatch {
  key: string;
  expected: number;
  stored: number;
}

/**
 * Point counts per image in `target` against the ledger, for the given tenants. With `storedCounts`
 * (one read of the whole target, which nothing else writes: a new LanceDB table) every image is
 * compared both ways, images in the target the ledger does not have included; without (Qdrant),
 * each tenant's total first, then image by image for a tenant whose total differs.
 */
export async function verifyCounts(
  target: VectorStore,
  ledger: Ledger,
  tenants: readonly string[],
  storedCounts?: () => Promise<Map<string, number>>,
): Promise<CountMismatch[]> {
  const scope = new Set(tenants);
  const mine = Object.entries(ledger).filter(([key]) => scope.has(splitKey(key).tenant));
  const out: CountMismatch[] = [];
  if (storedCounts) {
    const stored = await storedCounts();
    for (const [key, entry] of mine) {
      const n = stored.get(key) ?? 0;
      if (n !== entry.points) out.push({ key, expected: entry.points, stored: n });
    }
    for (const [key, n] of stored) {
      if (scope.has(splitKey(key).tenant) && !ledger[key])
        out.push({ key, expected: 0, stored: n });
    }
    return out;
  }
  for (const tenant of tenants) {
    const entries = mine.filter(([key]) => splitKey(key).tenant === tenant);
    const expected = entries.reduce((sum, [, e]) => sum + e.points, 0);
    const total = await target.count(tenant);
    if (total === expected) continue;
    // Points of images not in the ledger are not this run's (a server on the new pack may write to
    // the target already): only the images written are held to their counts.
    for (const [key, entry] of entries) {
      const n = await target.count(tenant, { imageIds: [splitKey(key).imageId] });
      if (n !== entry.points) out.push({ key, expected: entry.points, stored: n });
    }
  }
  return out;
}

/** "3 images differ: t/a (3 expected, 1 stored), …" — at most `max` named. */
export function describeMismatches(mismatches: readonly CountMismatch[], max = 10): string {
  const named = mismatches
    .slice(0, max)
    .map((m) => `${m.key} (${m.expected} expected, ${m.stored} stored)`);
  const more = mismatches.length > max ? `, and ${mismatches.length - max} more` : "";
  return `${mismatches.length} image${mismatches.length === 1 ? "" : "s"} with the wrong point count: ${named.join(", ")}${more}`;
}
