/** Shared test helpers: random masks and brute-force references written independently of src. */
import fc from "fast-check";

/** A random row-major mask with its shape (sizes up to 40×40, varied densities). */
export const arbMask = (maxSide = 40): fc.Arbitrary<{ h: number; w: number; mask: Uint8Array }> =>
  fc
    .record({
      h: fc.integer({ min: 1, max: maxSide }),
      w: fc.integer({ min: 1, max: maxSide }),
      p: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .chain(({ h, w, p }) =>
      fc
        .array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: h * w, maxLength: h * w })
        .map((u) => ({
          h,
          w,
          mask: Uint8Array.from(u, (v) => (v < p ? 1 : 0)),
        })),
    );

/** Build a row-major mask from rows of "0"/"1" characters. */
export function maskFromRows(rows: string[]): { h: number; w: number; mask: Uint8Array } {
  const h = rows.length;
  const w = rows[0]?.length ?? 0;
  return { h, w, mask: Uint8Array.from(rows.join(""), (c) => (c === "1" ? 1 : 0)) };
}

/** Brute-force bbox: [minX, minY, maxX, maxY] inclusive, or null when empty. */
export function bruteBounds(
  mask: Uint8Array,
  h: number,
  w: number,
): [number, number, number, number] | null {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (mask[y * w + x]) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}
