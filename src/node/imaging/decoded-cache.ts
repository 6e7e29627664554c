/**
 * Decoded pixels of recently verified uploads, so the extraction that follows an upload does not
 * decode the same bytes a second time. The local server fully decodes every upload before storing it
 * (bad bytes are refused before anything is stored); the job then reads the stored bytes back and
 * would decode them again. An entry is found only by bytes EQUAL to the ones it was decoded from
 * (length, then a byte compare), so a hit gives exactly the pixels a fresh decode would give.
 *
 * Bounded by `budgetBytes` (encoded bytes + pixels of every entry, decodes in flight included, so
 * concurrent uploads cannot overshoot it): room is made by dropping the oldest entries; when even that
 * cannot make room (decodes in flight hold it), `keep` decodes nothing and answers false, and the
 * caller verifies some other way. A miss only costs the decode it would have cost. Each entry is
 * handed out once (`take` removes it): the extractor is its only reader.
 */
import type { DecodedImage } from "./decode.js";

interface Entry {
  bytes: Uint8Array;
  image: DecodedImage;
  size: number;
}

/** Byte-for-byte equality (length first): how every cache of verified uploads matches bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

export class DecodedImageCache {
  private entries: Entry[] = [];
  /** Bytes of the entries plus the decodes in flight. */
  private used = 0;

  constructor(readonly budgetBytes: number) {}

  /**
   * Decode `bytes` with `decode` and keep the result, when an image of `width × height` (RGB) fits
   * the budget; false, without decoding, when it does not. `decode`'s error propagates (nothing kept).
   */
  async keep(bytes: Uint8Array, width: number, height: number, decode: () => Promise<DecodedImage>): Promise<boolean> {
    const size = bytes.byteLength + width * height * 3;
    if (!this.reserve(size)) return false;
    try {
      const image = await decode();
      this.entries.push({ bytes, image, size });
      return true;
    } catch (err) {
      this.used -= size;
      throw err;
    }
  }

  /** The pixels decoded from bytes equal to `bytes`, removed from the cache; undefined when absent. */
  take(bytes: Uint8Array): DecodedImage | undefined {
    const i = this.entries.findIndex((e) => sameBytes(e.bytes, bytes));
    if (i < 0) return undefined;
    const [entry] = this.entries.splice(i, 1);
    this.used -= entry!.size;
    return entry!.image;
  }

  /** Entries kept and bytes held, in-flight decodes included (tests, diagnostics). */
  get stats(): { entries: number; bytes: number } {
    return { entries: this.entries.length, bytes: this.used };
  }

  private reserve(size: number): boolean {
    while (this.used + size > this.budgetBytes && this.entries.length > 0) this.used -= this.entries.shift()!.size;
    if (this.used + size > this.budgetBytes) return false;
    this.used += size;
    return true;
  }
}
