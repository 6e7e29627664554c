/**
 * `region-search ingest`: upload image files with bounded concurrency and wait until each is indexed.
 * Resumable by construction: an image's id is the SHA-256 of its bytes (the API's default id), so a
 * file whose id is already indexed with the server's current pack is skipped without uploading.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ApiCallError, type ApiClient, type ImageJson } from "./client.js";
import { contentTypeOf } from "./files.js";
import type { MetadataFor } from "./metadata.js";

export interface IngestProgress {
  start(total: number): void;
  update(
    done: number,
    stats: { rate: number; regions: number; failed: number; skipped: number },
  ): void;
  stop(): void;
}

export interface IngestOptions {
  concurrency: number;
  /** Give up waiting for one image after this long. */
  timeoutMs: number;
  /** Upload even when already indexed (the server skips unchanged images itself). */
  force?: boolean;
  progress?: IngestProgress;
  pollMs?: number;
  /** Metadata per file (`--metadata`, `--metadata-from`); every upload is named after its file. */
  metadataFor?: MetadataFor;
}

export interface FileOutcome {
  file: string;
  id: string;
  state: "indexed" | "skipped" | "failed";
  regions: number;
  reason?: string;
}

export interface IngestSummary {
  images: number;
  indexed: number;
  skipped: number;
  failed: number;
  regions: number;
  seconds: number;
  failures: { file: string; reason: string }[];
}

export async function ingestFiles(
  client: ApiClient,
  files: readonly string[],
  options: IngestOptions,
): Promise<{ summary: IngestSummary; outcomes: FileOutcome[] }> {
  const t0 = performance.now();
  // The pack the server embeds with: an image indexed by an older pack is not "done".
  const serverPack = (await client.health()).pack;
  const tally = { done: 0, regions: 0, failed: 0, skipped: 0 };
  options.progress?.start(files.length);
  const outcomes = await mapPool(files, options.concurrency, async (file) => {
    const outcome = await ingestOne(client, file, serverPack, options);
    tally.done++;
    tally.regions += outcome.regions;
    if (outcome.state === "failed") tally.failed++;
    if (outcome.state === "skipped") tally.skipped++;
    options.progress?.update(tally.done, {
      ...tally,
      rate: tally.done / Math.max(1e-3, (performance.now() - t0) / 1000),
    });
    return outcome;
  });
  options.progress?.stop();
  return { summary: summarize(outcomes, (performance.now() - t0) / 1000), outcomes };
}

async function ingestOne(
  client: ApiClient,
  file: string,
  serverPack: string,
  options: IngestOptions,
): Promise<FileOutcome> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    return {
      file,
      id: "",
      state: "failed",
      regions: 0,
      reason: `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    };
  }
  const id = createHash("sha256").update(bytes).digest("hex");
  const contentType = contentTypeOf(bytes);
  if (!contentType)
    return {
      file,
      id,
      state: "failed",
      regions: 0,
      reason: "not a PNG, JPEG or WebP image (by its first bytes)",
    };
  const metadata = options.metadataFor?.(file);
  const fields = { name: path.basename(file), ...(metadata ? { metadata } : {}) };
  try {
    const existing = await retrying(() => client.getImage(id));
    if (!options.force && existing?.status === "indexed" && existing.pack === serverPack) {
      // Indexed already: new metadata (or a new name) is a PATCH, not a re-upload.
      if (fieldsDiffer(existing, fields)) await retrying(() => client.patchImage(id, fields));
      return { file, id, state: "skipped", regions: existing.regionCount ?? 0 };
    }
    await retrying(() => client.upload(bytes, contentType, undefined, fields));
    const record = await waitSettled(client, id, options.timeoutMs, options.pollMs ?? 250);
    if (record.status === "indexed")
      return { file, id, state: "indexed", regions: record.regionCount ?? 0 };
    const reason =
      record.status === "failed"
        ? `${record.errorCode ?? "ingest_failed"}: ${record.error ?? "unknown error"}`
        : `still ${record.status} after ${options.timeoutMs / 1000} s`;
    return { file, id, state: "failed", regions: 0, reason };
  } catch (err) {
    return { file, id, state: "failed", regions: 0, reason: describeError(err) };
  }
}

function fieldsDiffer(record: ImageJson, fields: { name: string; metadata?: object }): boolean {
  if (record.name !== fields.name) return true;
  return (
    fields.metadata !== undefined &&
    JSON.stringify(record.metadata) !== JSON.stringify(fields.metadata)
  );
}

/** Polls the image record (backing off to 2 s) until indexed or failed, or the timeout. */
async function waitSettled(
  client: ApiClient,
  id: string,
  timeoutMs: number,
  pollMs: number,
): Promise<ImageJson> {
  const deadline = Date.now() + timeoutMs;
  let delay = pollMs;
  for (;;) {
    const record = await retrying(() => client.getImage(id));
    if (!record) throw new Error("the image disappeared while indexing (deleted?)");
    if (record.status === "indexed" || record.status === "failed" || Date.now() >= deadline)
      return record;
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(2000, delay * 1.5);
  }
}

/** Retries what may pass on its own (network errors, 429, 5xx); a 4xx answer is final. */
async function retrying<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const transient = !(err instanceof ApiCallError) || err.status === 429 || err.status >= 500;
      if (!transient || i >= attempts) throw err;
      await sleep(250 * 2 ** i);
    }
  }
}

function describeError(err: unknown): string {
  if (err instanceof ApiCallError) return `${err.code}: ${err.message}`;
  const e = err as Error & { cause?: { code?: string } };
  return e.cause?.code ? `${e.message} (${e.cause.code})` : (e.message ?? String(err));
}

function summarize(outcomes: readonly FileOutcome[], seconds: number): IngestSummary {
  const count = (s: FileOutcome["state"]) => outcomes.filter((o) => o.state === s).length;
  return {
    images: outcomes.length,
    indexed: count("indexed"),
    skipped: count("skipped"),
    failed: count("failed"),
    regions: outcomes.reduce((n, o) => n + o.regions, 0),
    seconds: Math.round(seconds * 100) / 100,
    failures: outcomes
      .filter((o) => o.state === "failed")
      .map((o) => ({ file: o.file, reason: o.reason ?? "unknown" })),
  };
}

export function formatSummary(s: IngestSummary): string {
  const rate = s.seconds > 0 ? (s.images / s.seconds).toFixed(2) : "–";
  const lines = [
    `${s.images} image${s.images === 1 ? "" : "s"} in ${s.seconds.toFixed(1)} s (${rate} images/s)`,
    `  indexed  ${s.indexed}`,
    `  skipped  ${s.skipped}  (already indexed)`,
    `  failed   ${s.failed}`,
    `  regions  ${s.regions}`,
  ];
  if (s.failures.length > 0)
    lines.push("failures:", ...s.failures.map((f) => `  ${f.file}: ${f.reason}`));
  return lines.join("\n");
}

/** `fn` over `items`, at most `n` at once, results in input order. */
export async function mapPool<T, R>(
  items: readonly T[],
  n: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
