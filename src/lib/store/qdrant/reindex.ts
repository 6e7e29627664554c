/**
 * Re-indexing to a new model pack behind a collection alias, with no search downtime:
 *
 *   1. build the new pack's collection (`target`) next to the live one — searches keep going through
 *      the alias to the old collection all along;
 *   2. re-embed every image into it (the caller's `embed`: in practice the ingest pipeline over the
 *      stored bytes), then catch up with images ingested meanwhile (`reembedInto`, ../reembed.ts);
 *   3. check the point counts per image against what was written, then switch the alias to `target`
 *      with ONE `create_alias` action (it re-points an existing alias in one step), read the alias
 *      back and repair it if it does not point at `target`: every search sees either the old
 *      collection or the new one;
 *   4. drop the old collection.
 *
 * The alias is what bootstrap makes on a fresh deployment (`<alias>` → `<alias>_v1`), so this works
 * there as it is. `target` defaults to the next free `<alias>_v<n>`: one above every `_v<n>` that
 * exists, so it can never be the live collection nor a leftover.
 *
 * Resumable with a fixed `target` (every progress event names the one in use) and the `ledger` the
 * previous run reported: an image is skipped only when the target holds exactly as many of its
 * points as the ledger says were written (an image a crash left half-written is written again).
 * Without a ledger every image is embedded again (the points are replaced, never duplicated).
 * A target holding another pack's points, or sized for another vector length, is refused.
 */
import type { QdrantClient, Schemas } from "@qdrant/js-client-rest";
import { ApiError } from "../../errors.js";
import {
  checkLayout,
  describeMismatches,
  reembedInto,
  verifyCounts,
  type ImageToReembed,
  type Layout,
  type Ledger,
} from "../reembed.js";
import type { StoredPoint } from "../types.js";
import { existingDimension } from "./bootstrap.js";
import {
  resolveOptions,
  versionedName,
  versionOf,
  type QdrantStoreOptions,
  type RetryOptions,
} from "./config.js";
import { callStore } from "./errors.js";
import { createQdrantStore, qdrantClient } from "./store.js";

/** One image to re-embed. */
export type ImageRef = ImageToReembed;

export interface ReindexProgress {
  /** The collection being built: pass it as `target` to resume after a failure. */
  target: string;
  pass: number;
  image: ImageRef;
  /** Whether this image was embedded now (false: already whole in the target from an earlier run). */
  embedded: boolean;
  embeddedCount: number;
  skippedCount: number;
  /** Images of this pass handled so far, of `total`. */
  done: number;
  total: number;
  /** Points written by this run. */
  points: number;
  /** Persist with `target` and pass both back to resume. */
  ledger: Ledger;
}

export interface ReindexOptions {
  /** Qdrant connection; `collection` is the ALIAS searches use, `dim` the NEW pack's dimension. */
  store: QdrantStoreOptions;
  /**
   * The collection to build. Default: the next free `<alias>_v<n>` (a new name on every run, so a
   * re-run after a failure starts over in another collection unless given the failed run's target).
   * A fixed name per pack (e.g. `regions_<pack>`) makes a re-run resume it, and a run after the
   * switch only catch up.
   */
  target?: string;
  /** The new pack's id (`name@version`); default: the pack of the first point embedded. */
  pack?: string;
  /** What an earlier run into the same `target` wrote (its last progress event's `ledger`); updated in place. */
  ledger?: Ledger;
  /** Every image to re-embed, read once per pass (a later pass picks up images ingested meanwhile). */
  images: () => AsyncIterable<ImageRef> | Iterable<ImageRef>;
  /** The new pack's points of one image, all of `image.tenant`. */
  embed: (image: ImageRef) => Promise<StoredPoint[]>;
  /** Tenants `images` covers: their images the ledger has but the catalog no longer lists are removed from the target. */
  tenants?: readonly string[];
  onPass?: (pass: number, total: number, target: string) => void | Promise<void>;
  onProgress?: (progress: ReindexProgress) => void | Promise<void>;
  /** Passes over `images` at most, the first included; passes stop early once one finds nothing new. Default 2. */
  maxPasses?: number;
  /** Switch the alias once the target is built and checked (default true); false: build and check only. */
  switchAlias?: boolean;
  /** Keep the previous collection after the switch (a rollback is then one alias switch back). */
  keepOld?: boolean;
  /**
   * When the alias name is still a plain collection (what the store created on first start before it
   * set up aliases, or one made by hand), delete it and create the alias in its place. Searches fail
   * between those two requests, so this is opt-in. Not needed for a deployment the store set up.
   */
  replaceCollection?: boolean;
}

export interface ReindexResult {
  /** The collection the alias pointed at before (or the plain collection replaced), if any; `target` when it already did. */
  previous: string | null;
  target: string;
  embedded: number;
  skipped: number;
  /** Images removed from the target because the catalog no longer lists them. */
  pruned: number;
  /** Points written by this run. */
  points: number;
  /** Whether the alias was switched by this run (false: it already pointed at `target`, or `switchAlias: false`). */
  switched: boolean;
  dropped: string | null;
  /** Whether the alias already pointed at `target` when the run began (the run only caught up). */
  alreadyLive: boolean;
  ledger: Ledger;
}

type Live = { kind: "alias"; collection: string } | { kind: "collection" } | { kind: "none" };
/** A Qdrant call through `callStore`: errors mapped; retried unless `idempotent` is false. */
type Run = <T>(op: () => Promise<T>, idempotent?: boolean) => Promise<T>;

/** Points per upsert request in the target: more than any image has, so one image is one request. */
const ONE_REQUEST = 100_000;

export async function reindexQdrant(options: ReindexOptions): Promise<ReindexResult> {
  const o = resolveOptions(options.store);
  const alias = o.collection;
  if (options.target === alias)
    throw new Error(`the target collection must not be named like the alias "${alias}"`);
  const client = qdrantClient(o);
  // One QDRANT_TIMEOUT_MS per call, retries included, as for the store's own calls.
  const run: Run = (op, idempotent = true) => callStore(op, idempotent, o.retry, o.timeoutMs);
  const live = await liveName(client, alias, run);
  const targetName = options.target ?? (await nextVersion(client, alias, run));
  const alreadyLive = live.kind === "alias" && live.collection === targetName;
  if (live.kind === "collection" && !options.replaceCollection) {
    throw new Error(
      `"${alias}" is a collection, not an alias, so no alias switch can replace it atomically; ` +
        `re-run with replaceCollection to swap it for an alias (searches fail for the moment between two requests)`,
    );
  }
  const where = `Qdrant collection "${targetName}"`;
  // Another vector size is refused before the collection is opened (bootstrap would say it without the fix).
  const held = await qdrantLayout(client, targetName, o.retry);
  const pack = options.pack ?? held.pack ?? undefined;
  checkLayout(where, held, { pack, dim: o.dim });
  // A plain collection: the alias is switched to it, never put in front of it.
  const target = await createQdrantStore({
    ...options.store,
    collection: targetName,
    batchSize: ONE_REQUEST,
    createAlias: false,
  });
  // A collection this run created holds nothing an earlier ledger may describe.
  const ledger = target.bootstrap?.created ? clear(options.ledger ?? {}) : (options.ledger ?? {});
  const counts = await reembedInto(target, {
    ...(pack ? { pack } : {}),
    dim: o.dim,
    images: options.images,
    embed: options.embed,
    ledger,
    maxPasses: options.maxPasses ?? 2,
    pruneTenants: options.tenants ?? [],
    onPass: (pass, total) => options.onPass?.(pass, total, targetName),
    onProgress: (p) => options.onProgress?.({ target: targetName, ...p }),
  });
  const base = {
    target: targetName,
    embedded: counts.embedded,
    skipped: counts.skipped,
    pruned: counts.pruned,
    points: counts.points,
    ledger,
    alreadyLive,
  };
  // Live already: servers write to it, so only what this run wrote was checked (image by image).
  if (alreadyLive) return { previous: targetName, ...base, switched: false, dropped: null };

  const tenants = [...new Set(Object.keys(ledger).map((k) => k.slice(0, k.indexOf("/"))))];
  const mismatches = await verifyCounts(target, ledger, [
    ...new Set([...tenants, ...(options.tenants ?? [])]),
  ]);
  if (mismatches.length)
    throw new Error(
      `"${targetName}" does not hold what was written, not switching "${alias}" to it: ${describeMismatches(mismatches)}`,
    );
  const previous =
    live.kind === "alias" ? live.collection : live.kind === "collection" ? alias : null;
  if (options.switchAlias === false) return { previous, ...base, switched: false, dropped: null };

  await switchAlias(client, alias, live, targetName, run);
  const drop = live.kind === "alias" && !options.keepOld ? live.collection : null;
  if (drop) await run(() => client.deleteCollection(drop));
  return { previous, ...base, switched: true, dropped: live.kind === "collection" ? alias : drop };
}

function clear(ledger: Ledger): Ledger {
  for (const key of Object.keys(ledger)) delete ledger[key];
  return ledger;
}

/**
 * What a collection (or the one behind an alias) holds: its vector size and the pack of its first
 * point; both null when there is no such collection, `pack` null when it is empty. One scroll of one
 * point: a collection is written by one pack (every write path checks), so the first point tells.
 */
export async function qdrantLayout(
  client: QdrantClient,
  name: string,
  retry: RetryOptions,
): Promise<Layout> {
  const dim = await existingDimension(client, { collection: name, retry });
  if (dim === null) return { pack: null, dim: null };
  try {
    const page = await callStore(
      () => client.scroll(name, { limit: 1, with_payload: ["pack"], with_vector: false }),
      true,
      retry,
    );
    const pack = page.points[0]?.payload?.pack;
    return { pack: page.points.length ? String(pack) : null, dim };
  } catch (err) {
    // Deleted between the two requests: as good as absent.
    if (err instanceof ApiError && (err.cause as { status?: number } | undefined)?.status === 404)
      return { pack: null, dim: null };
    throw err;
  }
}

/** `<alias>_v<n>` for n one above every `<alias>_v<m>` collection or alias that exists (the live one included). */
async function nextVersion(client: QdrantClient, alias: string, run: Run): Promise<string> {
  const [{ collections }, { aliases }] = await Promise.all([
    run(() => client.getCollections()),
    run(() => client.getAliases()),
  ]);
  const names = [
    ...collections.map((c) => c.name),
    ...aliases.flatMap((a) => [a.alias_name, a.collection_name]),
  ];
  const highest = Math.max(0, ...names.map((name) => versionOf(alias, name) ?? 0));
  return versionedName(alias, highest + 1);
}

/** What the alias name is now. */
async function liveName(client: QdrantClient, name: string, run: Run): Promise<Live> {
  const { aliases } = await run(() => client.getAliases());
  const hit = aliases.find((a) => a.alias_name === name);
  if (hit) return { kind: "alias", collection: hit.collection_name };
  const { exists } = await run(() => client.collectionExists(name));
  return exists ? { kind: "collection" } : { kind: "none" };
}

/**
 * Points the alias at `target`, then reads it back. Checks first that nobody moved the alias since
 * the re-index began: switching over someone else's switch would silently undo it.
 *
 * One `create_alias` action, never `delete_alias` + `create_alias`: Qdrant applies the actions of
 * one request one by one with no rollback, so a batch that fails half-way stays half-applied (the
 * alias deleted, none created: every search fails). `create_alias` on an existing alias re-points
 * it in one step (qdrant lib/storage/src/content_manager/toc/collection_meta_ops.rs
 * `update_aliases`, lib/storage/src/content_manager/alias_mapping.rs `insert`).
 */
async function switchAlias(
  client: QdrantClient,
  alias: string,
  before: Live,
  target: string,
  run: Run,
): Promise<void> {
  const now = await liveName(client, alias, run);
  if (JSON.stringify(now) !== JSON.stringify(before)) {
    throw new Error(
      `"${alias}" changed during the re-index (was ${JSON.stringify(before)}, now ${JSON.stringify(now)}); not switching`,
    );
  }
  // A plain collection of that name must go before an alias can take the name (the opt-in outage).
  if (before.kind === "collection") await run(() => client.deleteCollection(alias), false);
  const actions: Schemas["AliasOperations"][] = [
    { create_alias: { collection_name: target, alias_name: alias } },
  ];
  // Not retried blindly (a switch that timed out may have happened): the alias is read back instead.
  const failure = await run(() => client.updateCollectionAliases({ actions }), false).then(
    () => null,
    (err: unknown) => err,
  );
  const after = await liveName(client, alias, run);
  if (after.kind === "alias" && after.collection === target) return;
  // Not on `target`: the request failed or was lost. Setting it again is idempotent; then read back once more.
  await run(() => client.updateCollectionAliases({ actions }), false);
  const repaired = await liveName(client, alias, run);
  if (repaired.kind !== "alias" || repaired.collection !== target)
    throw new Error(
      `"${alias}" points at ${JSON.stringify(repaired)} after switching it to "${target}"` +
        (failure ? ` (the switch failed: ${String(failure)})` : ""),
    );
}
