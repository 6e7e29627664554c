/**
 * A region extractor with the REAL decoder (sharp, `decodeImage`: limits, first frame, EXIF
 * orientation) and no models: the upright image is split by luminance into a "dark" and a "light"
 * region (whichever are non-empty), each with the fake text vector of its name. Hostile-input tests
 * need the real decode path; the models would only make them slow.
 */
import { rleEncodeRowMajor, rleToBoxXywh } from "../../src/lib/masks/rle.js";
import type { ExtractedImage, ExtractedRegion, RegionExtractor } from "../../src/lib/services.js";
import type { ImageLimits } from "../../src/lib/intake/index.js";
import { decodeImage, type DecodedImage } from "../../src/node/imaging/index.js";
import { FAKE_PACK, fakeTextVector } from "./fakes.js";

export class DecodingExtractor implements RegionExtractor {
  readonly pack = FAKE_PACK;
  calls = 0;
  /** The last image decoded (what the models would have seen). */
  last: DecodedImage | undefined;

  constructor(private readonly limits: Partial<ImageLimits> = {}) {}

  async extract(bytes: Uint8Array): Promise<ExtractedImage> {
    this.calls++;
    const img = await decodeImage(bytes, this.limits);
    this.last = img;
    const dark = new Uint8Array(img.width * img.height);
    for (let i = 0; i < dark.length; i++) {
      const [r, g, b] = [img.data[i * 3]!, img.data[i * 3 + 1]!, img.data[i * 3 + 2]!];
      dark[i] = 0.299 * r + 0.587 * g + 0.114 * b < 128 ? 1 : 0;
    }
    const light = dark.map((v) => 1 - v);
    const regions = [region("dark", dark, img), region("light", light, img)].filter(
      (r): r is ExtractedRegion => r !== null,
    );
    return {
      width: img.width,
      height: img.height,
      imageVector: fakeTextVector("whole image"),
      regions,
      timings: {},
    };
  }
}

function region(label: string, mask: Uint8Array, img: DecodedImage): ExtractedRegion | null {
  const area = mask.reduce((s, v) => s + v, 0);
  if (area === 0) return null;
  const rle = rleEncodeRowMajor(mask, img.height, img.width);
  return {
    mask: rle,
    bbox: rleToBoxXywh(rle),
    area,
    predictedIou: 0.9,
    stability: 0.9,
    vector: fakeTextVector(label),
  };
}
