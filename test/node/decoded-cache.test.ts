import { describe, expect, it } from "vitest";
import { DecodedImageCache, type DecodedImage } from "../../src/node/imaging/index.js";

const image = (w: number, h: number, fill = 7): DecodedImage => ({ format: "png", width: w, height: h, data: new Uint8Array(w * h * 3).fill(fill) });
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe("DecodedImageCache", () => {
  it("hands the pixels out once, for bytes equal to the verified ones (another buffer, same content)", async () => {
    const cache = new DecodedImageCache(1000);
    const img = image(4, 4);
    expect(await cache.keep(bytes(10, 1), 4, 4, async () => img)).toBe(true);
    expect(cache.take(bytes(10, 2))).toBeUndefined(); // same length, other content
    expect(cache.take(bytes(11, 1))).toBeUndefined();
    expect(cache.take(bytes(10, 1))).toBe(img);
    expect(cache.take(bytes(10, 1))).toBeUndefined();
    expect(cache.stats).toEqual({ entries: 0, bytes: 0 });
  });

  it("drops the oldest entries to make room and counts encoded bytes plus pixels", async () => {
    const cache = new DecodedImageCache(200); // each entry: 10 bytes + 4·4·3 = 58
    for (let i = 1; i <= 4; i++) await cache.keep(bytes(10, i), 4, 4, async () => image(4, 4, i));
    expect(cache.stats).toEqual({ entries: 3, bytes: 174 });
    expect(cache.take(bytes(10, 1))).toBeUndefined();
    expect(cache.take(bytes(10, 4))?.data[0]).toBe(4);
  });

  it("does not decode an image larger than the whole budget", async () => {
    const cache = new DecodedImageCache(100);
    let decoded = 0;
    expect(await cache.keep(bytes(10, 1), 10, 10, async () => (decoded++, image(10, 10)))).toBe(false);
    expect(decoded).toBe(0);
    expect(cache.stats.bytes).toBe(0);
  });

  it("reserves room for decodes in flight, so concurrent uploads cannot overshoot the budget", async () => {
    const cache = new DecodedImageCache(100);
    let release!: () => void;
    const slow = cache.keep(bytes(10, 1), 4, 4, () => new Promise<DecodedImage>((r) => (release = () => r(image(4, 4)))));
    expect(await cache.keep(bytes(10, 2), 4, 4, async () => image(4, 4))).toBe(false); // 58 + 58 > 100
    release();
    expect(await slow).toBe(true);
    expect(cache.stats).toEqual({ entries: 1, bytes: 58 });
  });

  it("keeps nothing and frees its reservation when the decode fails", async () => {
    const cache = new DecodedImageCache(100);
    await expect(cache.keep(bytes(10, 1), 4, 4, async () => Promise.reject(new Error("corrupt")))).rejects.toThrow("corrupt");
    expect(cache.stats).toEqual({ entries: 0, bytes: 0 });
  });
});
