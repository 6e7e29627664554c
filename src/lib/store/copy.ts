/**
 * Copying an index from one vector store to another (embedded → Qdrant, Qdrant → Qdrant, …), page by
 * page in id order. Resumable: the checkpoint after each page is "tenants before this one are done;
 * in this one, every id up to `after`". Re-running from an older checkpoint, or from none, only
 * rewrites points the target already has: ids are deterministic, so upserts replace, never duplicate.
 * Points are copied as they are — vectors, payload, pack — so both stores must use the same pack.
 */
import type { ScannableStore, VectorStore } from "./types.js";

/** Where a copy stands: tenants listed before `tenant` are done; in `tenant`, every id ≤ `after`. */
export interface CopyCheckpoint {
  tenant: string;
  after?: string;
}

export interface CopyProgress {
  tenant: string;
  /** Points written by this run so far, all tenants together. */
  copied: number;
  /** Points of `tenant` written by this run so far. */
  tenantCopied: number;
  /** Persist this to resume from here; `null` once every tenant is done. */
  checkpoint: CopyCheckpoint | null;
}

export interface CopyOptions {
  /** Tenants to copy, in this order (the order a checkpoint refers to). */
  tenants: readonly string[];
  /** Points per page (read and write). Default 256. */
  batchSize?: number;
  /** Resume from a checkpoint a previous run reported. */
  resume?: CopyCheckpoint;
  /** Called after every written page and once at the end; awaited, so a caller can persist the checkpoint first. */
  onProgress?: (progress: CopyProgress) => void | Promise<void>;
  /** Stops between pages (the last checkpoint reported stays valid). */
  signal?: AbortSignal;
}

export interface CopyResult {
  copied: number;
  perTenant: Record<string, number>;
}

/** Whether a store can be a copy source. */
function isScannable(store: VectorStore): store is ScannableStore {
  return typeof store.scan === "function";
}

/** Copies every point of `options.tenants` from `from` to `to`. Throws if aborted (after a consistent checkpoint). */
export async function copyIndex(
  from: VectorStore,
  to: VectorStore,
  options: CopyOptions,
): Promise<CopyResult> {
  if (!isScannable(from))
    throw new Error(
      "the source store cannot be scanned (it has no `scan`), so it cannot be copied from",
    );
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const start = startIndex(options);
  const result: CopyResult = { copied: 0, perTenant: {} };
  for (let i = start; i < options.tenants.length; i++) {
    const tenant = options.tenants[i]!;
    const after = i === start ? options.resume?.after : undefined;
    result.perTenant[tenant] = await copyTenant(
      from,
      to,
      tenant,
      after,
      batchSize,
      options,
      result,
    );
  }
  await options.onProgress?.({
    tenant: options.tenants.at(-1) ?? "",
    copied: result.copied,
    tenantCopied: 0,
    checkpoint: null,
  });
  return result;
}

/** Index of the tenant to start with; a checkpoint naming a tenant not in the list is a mistake, not a fresh start. */
function startIndex(options: CopyOptions): number {
  if (new Set(options.tenants).size !== options.tenants.length)
    throw new Error("each tenant may be listed once");
  if (!options.resume) return 0;
  const i = options.tenants.indexOf(options.resume.tenant);
  if (i < 0)
    throw new Error(
      `the checkpoint is for tenant "${options.resume.tenant}", which is not among the tenants to copy`,
    );
  return i;
}

async function copyTenant(
  from: ScannableStore,
  to: VectorStore,
  tenant: string,
  resumeAfter: string | undefined,
  limit: number,
  options: CopyOptions,
  total: CopyResult,
): Promise<number> {
  let after = resumeAfter;
  let copied = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await from.scan(tenant, after === undefined ? { limit } : { after, limit });
    if (page.length === 0) return copied;
    // A store that pages out of order would loop or skip silently; stop loudly instead.
    if (after !== undefined && page[0]!.id <= after)
      throw new Error(
        `source store returned point ${page[0]!.id} at or before the cursor ${after}`,
      );
    await to.upsert(tenant, page);
    copied += page.length;
    total.copied += page.length;
    after = page.at(-1)!.id;
    await options.onProgress?.({
      tenant,
      copied: total.copied,
      tenantCopied: copied,
      checkpoint: { tenant, after },
    });
    if (page.length < limit) return copied;
  }
}
