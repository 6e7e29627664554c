/**
 * Pixel IoU of binary masks.
 */

/**
 * IoU of two 0/1 masks of the same shape (row-major `[H, W]`; any shared layout works since the
 * measure is element-wise). Nonzero counts as foreground. Returns 0 when both masks are empty.
 */
export function maskIouRowMajor(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length)
    throw new Error(`maskIouRowMajor: lengths differ (${a.length} vs ${b.length})`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const va = a[i] !== 0;
    const vb = b[i] !== 0;
    if (va || vb) union++;
    if (va && vb) inter++;
  }
  return union === 0 ? 0 : inter / union;
}
