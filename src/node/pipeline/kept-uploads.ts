/**
 * What the upload prefetch keeps between an upload's check and its ingest job, bounded: decoded
 * pixels within `budgetBytes` (encoded bytes + RGB pixels of each, decodes in flight included, so
 * concurrent uploads cannot overshoot it), and at most `maxStarted` extractions started early (each
 * its encoded bytes and a result of a few KB). Room is made by dropping the oldest, which is also
 * how an upload whose job never comes (same bytes already indexed, a failed store) goes away.
 * An entry is found only by the job it was filed under, and handed out once.
 */
import type { ExtractedImage } from "../../lib/services.js";
import type { DecodedImage } from "../imaging/index.js";

/** One upload's kept work. Its fields change only here. */
export interface KeptUpload {
  /** The accepted bytes, to confirm that a job's stored bytes are still these. */
  readonly bytes: Uint8Array;
  /** The decoded pixels, until they go to the worker. */
  pixels: DecodedImage | undefined;
  /** The extraction started early, once the pixels went to the worker. */
  result: Promise<ExtractedImage> | undefined;
  /** Room held in the pixel budget. */
  size: number;
  /** The job it is filed under, if any. */
  job: string | undefined;
  dropped: boolean;
}

export class KeptUploads {
  private withPixels: KeptUpload[] = [];
  private started: KeptUpload[] = [];
  private readonly byJob = new Map<string, KeptUpload>();
  /** Room held by the pixel entries plus the decodes in flight. */
  private used = 0;

  constructor(
    readonly budgetBytes: number,
    readonly maxStarted: number,
  ) {}

  /**
   * Decodes with `decode` and keeps the pixels when `size` bytes fit the budget; undefined, without
   * decoding, when they do not. `decode`'s error propagates (nothing kept, its room freed).
   */
  async keepPixels(
    bytes: Uint8Array,
    size: number,
    decode: () => Promise<DecodedImage>,
  ): Promise<KeptUpload | undefined> {
    if (!this.reserve(size)) return undefined;
    let pixels: DecodedImage;
    try {
      pixels = await decode();
    } catch (err) {
      this.used -= size;
      throw err;
    }
    const entry: KeptUpload = {
      bytes,
      pixels,
      result: undefined,
      size,
      job: undefined,
      dropped: false,
    };
    this.withPixels.push(entry);
    return entry;
  }

  /** The entry's pixels went to the worker: its result is kept instead, and their room freed. */
  markStarted(entry: KeptUpload, result: Promise<ExtractedImage>): void {
    result.catch(() => undefined); // rejected and never redeemed must not be an unhandled rejection
    if (remove(this.withPixels, entry)) this.used -= entry.size;
    Object.assign(entry, { pixels: undefined, result, size: 0 });
    this.started.push(entry);
    while (this.started.length > this.maxStarted) this.drop(this.started[0]!);
  }

  /** Files the entry under `job`; an entry filed there before (an earlier upload of the same id) is dropped. */
  file(entry: KeptUpload, job: string): void {
    if (entry.dropped) return;
    const previous = this.byJob.get(job);
    if (previous && previous !== entry) this.drop(previous);
    entry.job = job;
    this.byJob.set(job, entry);
  }

  /** The entry filed under `job`, removed; undefined when none is (left). */
  take(job: string): KeptUpload | undefined {
    const entry = this.byJob.get(job);
    if (entry) this.drop(entry);
    return entry;
  }

  /** Entries and room held (tests, diagnostics). */
  get stats(): { pixels: { entries: number; bytes: number }; started: number } {
    return {
      pixels: { entries: this.withPixels.length, bytes: this.used },
      started: this.started.length,
    };
  }

  private drop(entry: KeptUpload): void {
    entry.dropped = true;
    if (remove(this.withPixels, entry)) this.used -= entry.size;
    remove(this.started, entry);
    if (entry.job !== undefined && this.byJob.get(entry.job) === entry)
      this.byJob.delete(entry.job);
  }

  private reserve(size: number): boolean {
    while (this.used + size > this.budgetBytes && this.withPixels.length > 0)
      this.drop(this.withPixels[0]!);
    if (this.used + size > this.budgetBytes) return false;
    this.used += size;
    return true;
  }
}

function remove<T>(list: T[], item: T): boolean {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
  return i >= 0;
}
