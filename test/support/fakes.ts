/**
 * Deterministic fakes of the model pipeline, so API, ingest and store tests run in milliseconds and
 * without a model pack. The fake text embedder hashes words into a small vector; the fake extractor
 * cuts an image into vertical strips whose vectors are the text vectors of labels the test chose, so
 * "search for a label" must find that strip.
 */
import { imageSize } from "image-size";
import { createHash } from "node:crypto";
import { rleEncodeRowMajor } from "../../src/lib/masks/rle.js";
import type { ExtractedImage, RegionExtractor, TextEmbedder } from "../../src/lib/services.js";

export const FAKE_DIM = 32;
export const FAKE_PACK = "fake@1";

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function normalize(v: Float32Array): Float32Array {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

/** Bag of hashed words, L2-normalised; text without words maps to a fixed vector. */
export function fakeTextVector(text: string): Float32Array {
  const v = new Float32Array(FAKE_DIM);
  const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? ["<empty>"];
  for (const w of words) v[fnv1a(w) % FAKE_DIM]! += 1;
  return normalize(v);
}

export class FakeTextEmbedder implements TextEmbedder {
  readonly pack = FAKE_PACK;
  calls = 0;
  async embedText(text: string): Promise<Float32Array> {
    this.calls++;
    return fakeTextVector(text);
  }
}

export const sha256 = (bytes: Uint8Array): string =>
  createHash("sha256").update(bytes).digest("hex");

/** An error shaped like src/node/imaging's ImageInputError. */
export class FakeImageInputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ImageInputError";
  }
}

export class FakeExtractor implements RegionExtractor {
  readonly pack: string;
  private readonly labels = new Map<string, string[]>();
  /** Throw a transient error on the next `n` calls. */
  transientFailures = 0;
  /** Images (by sha256) that fail as undecodable input. */
  readonly invalid = new Set<string>();
  calls = 0;
  /** Resolve to hold a call (tests of in-progress states). */
  gate: Promise<void> | null = null;

  constructor(pack = FAKE_PACK) {
    this.pack = pack;
  }

  setLabels(bytes: Uint8Array, labels: string[]): void {
    this.labels.set(sha256(bytes), labels);
  }

  async extract(bytes: Uint8Array): Promise<ExtractedImage> {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.transientFailures > 0) {
      this.transientFailures--;
      throw new Error("model session crashed (fake)");
    }
    const key = sha256(bytes);
    if (this.invalid.has(key))
      throw new FakeImageInputError("invalid_image", "corrupt image data (fake)");
    const { width = 0, height = 0 } = imageSize(bytes);
    const labels = this.labels.get(key) ?? ["left thing", "right thing"];
    return {
      width,
      height,
      imageVector: fakeTextVector(labels.join(" ")),
      regions: strips(labels, width, height),
      timings: { fake: 0 },
    };
  }
}

/** One vertical strip per label, left to right. */
function strips(labels: string[], width: number, height: number): ExtractedImage["regions"] {
  return labels.map((label, i) => {
    const x0 = Math.floor((i * width) / labels.length);
    const x1 = Math.floor(((i + 1) * width) / labels.length);
    const mask = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) mask.fill(1, y * width + x0, y * width + x1);
    return {
      mask: rleEncodeRowMajor(mask, height, width),
      bbox: [x0, 0, x1 - x0, height] as [number, number, number, number],
      area: (x1 - x0) * height,
      predictedIou: 0.9,
      stability: 0.95,
      vector: fakeTextVector(label),
    };
  });
}
