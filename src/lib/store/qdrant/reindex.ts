/**
 * Re-indexing to a new model pack behind a collection alias, with no search downtime:
 *
 *   1. build the new pack's collection (`target`) next to the live one — searches keep going through
 *      the alias to the old collection all along;
 *   2. re-embed every image into it (the caller's `embed`: in practice the ingest pipeline over the
 *      stored bytes), then catch up with images ingested meanwhile;
 *   3. switch the alias to `target` in ONE `POST /collections/aliases` (delete + create actions, which
 *      Qdrant applies atomically): every search sees either the old collection or the new one;
 *   4. drop the old collection.
 *
 * The alias is what bootstrap makes on a fresh deployment (`<alias>` → `<alias>_v1`), so this works
 * there as it is. `target` defaults to the next free `<alias>_v<n>`: one above every `_v<n>` that
 * exists, so it can never be the live collection nor a leftover.
 *
 * Resumable with a fixed `target` (every progress event names the one in use): `target` keeps its
 * name across runs, and an image that already has points there is skipped. Each image is written in
 * one upsert request, so "has points" means "fully written".
 */
import type { QdrantClient, Schemas } from "@qdrant/js-client-rest";
import type { StoredPoint } from "../types.js";
import { resolveOptions, versionedName, versionOf, type QdrantStoreOptions } from "./config.js";
import { callStore } from "./errors.js";
import { createQdrantStore, qdrantClient, type QdrantVectorStore } from "./store.js";

/** One image to re-embed. */
export interface ImageRef {
  tenant: string;
  imageId: string;
}

export interface ReindexProgress {
  /** The collection being built: pass it as `target` to resume after a failure. */
  target: string;
  pass: number;
  image: ImageRef;
  /** Whether this image was embedded now (false: already in the target from an earlier run). */
  embedded: boolean;
  embeddedCount: number;
  skippedCount: number;
}

export interface ReindexOptions {
  /** Qdrant connection; `collection` is the ALIAS searches use, `dim` the NEW pack's dimension. */
  store: QdrantStoreOptions;
  /**
   * The collection to build. Default: the next free `<alias>_v<n>` (a new name on every run, so a
   * re-run after a failure starts over in another collection unless given the failed run's target).
   * A fixed name per pack (e.g. `regions_<pack>`) makes a re-run resume it, and a run after the
   * switch do nothing.
   */
  target?: string;
  /** Every image to re-embed, read once per pass (a later pass picks up images ingested meanwhile). */
  images: () => AsyncIterable<ImageRef> | Iterable<ImageRef>;
  /** The new pack's points of one image, all of `image.tenant`. */
  embed: (image: ImageRef) => Promise<StoredPoint[]>;
  onProgress?: (progress: ReindexProgress) => void | Promise<void>;
  /** Passes over `images` at most, the first included; passes stop early once one finds nothing new. Default 2. */
  maxPasses?: number;
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
  /** The collection the alias pointed at before (or the plain collection replaced), if any. */
  previous: string | null;
  target: string;
  embedded: number;
  skipped: number;
  /** Whether the alias was switched by this run (false: it already pointed at `target`). */
  switched: boolean;
  dropped: string | null;
}

type Live = { kind: "alias"; collection: string } | { kind: "collection" } | { kind: "none" };
/** A Qdrant call through `callStore`: errors mapped; retried unless `idempotent` is false. */
type Run = <T>(op: () => Promise<T>, idempotent?: boolean) => Promise<T>;

/** Points per upsert request in the target: more than any image has, so one image is one request. */
const ONE_REQUEST = 100_000;

export async function reindexQdrant(options: ReindexOptions): Promise<ReindexResult> {
  const o = resolveOptions(options.store);
  const alias = o.collection;
  if (options.target === alias) throw new Error(`the target collection must not be named like the alias "${alias}"`);
  const client = qdrantClient(o);
  const run: Run = (op, idempotent = true) => callStore(op, idempotent, o.retry);
  const live = await liveName(client, alias, run);
  const targetName = options.target ?? (await nextVersion(client, alias, run));
  if (live.kind === "alias" && live.collection === targetName) {
    return { previous: null, target: targetName, embedded: 0, skipped: 0, switched: false, dropped: null };
  }
  if (live.kind === "collection" && !options.replaceCollection) {
    throw new Error(
      `"${alias}" is a collection, not an alias, so no alias switch can replace it atomically; ` +
        `re-run with replaceCollection to swap it for an alias (searches fail for the moment between two requests)`,
    );
  }
  // A plain collection: the alias is switched to it, never put in front of it.
  const target = await createQdrantStore({ ...options.store, collection: targetName, batchSize: ONE_REQUEST, createAlias: false });
  const counts = await fill(target, targetName, options);

  const previous = live.kind === "alias" ? live.collection : live.kind === "collection" ? alias : null;
  await switchAlias(client, alias, live, targetName, run);
  const drop = live.kind === "alias" && !options.keepOld ? live.collection : null;
  if (drop) await run(() => client.deleteCollection(drop));
  return { previous, target: targetName, ...counts, switched: true, dropped: live.kind === "collection" ? alias : drop };
}

/** `<alias>_v<n>` for n one above every `<alias>_v<m>` collection or alias that exists (the live one included). */
async function nextVersion(client: QdrantClient, alias: string, run: Run): Promise<string> {
  const [{ collections }, { aliases }] = await Promise.all([run(() => client.getCollections()), run(() => client.getAliases())]);
  const names = [...collections.map((c) => c.name), ...aliases.flatMap((a) => [a.alias_name, a.collection_name])];
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

/** Embeds every image not yet in the target, pass after pass while new images turn up. */
async function fill(target: QdrantVectorStore, targetName: string, options: ReindexOptions): Promise<{ embedded: number; skipped: number }> {
  const seen = new Set<string>();
  const counts = { embedded: 0, skipped: 0 };
  // A collection this run created is empty: no image in it to look for on the first pass.
  let fresh = target.bootstrap?.created === true;
  for (let pass = 1; pass <= (options.maxPasses ?? 2); pass++) {
    let found = 0;
    for await (const image of options.images()) {
      const key = `${image.tenant}/${image.imageId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      found++;
      const done = !fresh && (await target.count(image.tenant, { imageIds: [image.imageId] })) > 0;
      if (!done) await target.upsert(image.tenant, await options.embed(image));
      counts[done ? "skipped" : "embedded"]++;
      await options.onProgress?.({ target: targetName, pass, image, embedded: !done, embeddedCount: counts.embedded, skippedCount: counts.skipped });
    }
    fresh = false;
    if (found === 0) break;
  }
  return counts;
}

/**
 * Points the alias at `target` in one request (Qdrant applies an alias batch atomically). Checks first
 * that nobody moved the alias since the re-index began: switching over someone else's switch would
 * silently undo it.
 */
async function switchAlias(client: QdrantClient, alias: string, before: Live, target: string, run: Run): Promise<void> {
  const now = await liveName(client, alias, run);
  if (JSON.stringify(now) !== JSON.stringify(before)) {
    throw new Error(`"${alias}" changed during the re-index (was ${JSON.stringify(before)}, now ${JSON.stringify(now)}); not switching`);
  }
  // A plain collection of that name must go before an alias can take the name (the opt-in outage).
  if (before.kind === "collection") await run(() => client.deleteCollection(alias), false);
  const actions: Schemas["AliasOperations"][] = [
    ...(before.kind === "alias" ? [{ delete_alias: { alias_name: alias } }] : []),
    { create_alias: { collection_name: target, alias_name: alias } },
  ];
  // Not retried: a switch that timed out may have happened; a re-run sees the alias on `target` and stops.
  await run(() => client.updateCollectionAliases({ actions }), false);
}
