/**
 * Extractions started at upload time, while the model worker would otherwise sit idle: the upload's
 * blob and `queued` record writes (fsynced), the enqueue and the job's blob read then overlap the
 * models instead of preceding them. Only compute is early: the job still writes points and records
 * in the same order, after the blob and the record are durable, so nothing acknowledged changes.
 *
 * An entry is claimed by the job's `extract` of bytes EQUAL to the uploaded ones, once. Unclaimed
 * entries (an upload that needed no ingest, or failed to store) are dropped when newer ones arrive:
 * at most `maxEntries` are held, each its encoded bytes and a result of a few KB.
 */
import type { ExtractedImage } from "../../lib/services.js";
import { sameBytes } from "../imaging/index.js";

interface Entry {
  bytes: Uint8Array;
  result: Promise<ExtractedImage>;
}

export class EarlyExtractions {
  private entries: Entry[] = [];

  constructor(readonly maxEntries = 2) {}

  add(bytes: Uint8Array, result: Promise<ExtractedImage>): void {
    result.catch(() => undefined); // rejected and never claimed must not be an unhandled rejection
    this.entries.push({ bytes, result });
    while (this.entries.length > this.maxEntries) this.entries.shift();
  }

  /** The extraction of bytes equal to `bytes`, removed; undefined when none was started. */
  take(bytes: Uint8Array): Promise<ExtractedImage> | undefined {
    const i = this.entries.findIndex((e) => sameBytes(e.bytes, bytes));
    return i < 0 ? undefined : this.entries.splice(i, 1)[0]!.result;
  }

  get size(): number {
    return this.entries.length;
  }
}
