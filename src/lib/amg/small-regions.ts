/**
 * SAM's `remove_small_regions`: fill small holes or drop small islands of a binary mask.
 */

/** 8-connected components of the pixels where `isForeground` holds. Label 0 = not foreground. */
interface Components {
  labels: Int32Array; // row-major [H, W]
  sizes: number[]; // sizes[k] = pixel count of label k + 1
}

/**
 * SAM's `remove_small_regions(mask, area_thresh, mode)` on a row-major `[height, width]` 0/1 mask.
 *
 * - `"holes"`: components (8-connected, like `cv2.connectedComponentsWithStats(…, 8)`) of the
 *   INVERTED mask with fewer than `areaThresh` pixels are filled. As in SAM, background touching the
 *   image border counts too when it is small.
 * - `"islands"`: components of the mask with fewer than `areaThresh` pixels are removed; if every
 *   component is small, the largest one is kept (ties: the lowest label, i.e. the component met
 *   first when scanning 2×2 blocks in raster order, as cv2's block-based labelling numbers them).
 *
 * `changed` is SAM's flag: true whenever any small component exists, even when keeping the largest
 * island leaves the mask as it was. The input is never modified.
 */
export function removeSmallRegionsRowMajor(
  mask: Uint8Array,
  height: number,
  width: number,
  areaThresh: number,
  mode: "holes" | "islands",
): { mask: Uint8Array; changed: boolean } {
  if (mask.length !== height * width) {
    throw new Error(
      `removeSmallRegionsRowMajor: mask has ${mask.length} values, expected ${height}×${width}`,
    );
  }
  const holes = mode === "holes";
  const { labels, sizes } = labelComponents8(height, width, (i) => (mask[i] !== 0) !== holes);
  const isSmall = sizes.map((s) => s < areaThresh);
  if (!isSmall.some(Boolean)) return { mask, changed: false };

  const out = new Uint8Array(mask.length);
  if (holes) {
    // Keep the mask (working label 0) and fill the small background components.
    for (let i = 0; i < out.length; i++) {
      const l = labels[i]!;
      out[i] = l === 0 || isSmall[l - 1] ? 1 : 0;
    }
  } else {
    const keep = isSmall.map((small) => !small);
    if (!keep.some(Boolean)) keep[indexOfMax(sizes)] = true;
    for (let i = 0; i < out.length; i++) {
      const l = labels[i]!;
      out[i] = l !== 0 && keep[l - 1] ? 1 : 0;
    }
  }
  return { mask: out, changed: true };
}

/**
 * Label 8-connected components. Labels are assigned in the order components are first met when
 * visiting 2×2 blocks in raster order (all foreground pixels of a 2×2 block are 8-connected, so a
 * block belongs to one component at most).
 */
function labelComponents8(
  height: number,
  width: number,
  isForeground: (index: number) => boolean,
): Components {
  const labels = new Int32Array(height * width);
  const sizes: number[] = [];
  const stack = new Int32Array(height * width);
  for (let by = 0; by < height; by += 2) {
    for (let bx = 0; bx < width; bx += 2) {
      for (let dy = 0; dy < 2 && by + dy < height; dy++) {
        for (let dx = 0; dx < 2 && bx + dx < width; dx++) {
          const start = (by + dy) * width + bx + dx;
          if (labels[start] === 0 && isForeground(start)) {
            sizes.push(
              floodFill8(labels, stack, height, width, start, sizes.length + 1, isForeground),
            );
          }
        }
      }
    }
  }
  return { labels, sizes };
}

/** Flood-fill one component with `label` using an explicit stack; returns its pixel count. */
function floodFill8(
  labels: Int32Array,
  stack: Int32Array,
  height: number,
  width: number,
  start: number,
  label: number,
  isForeground: (index: number) => boolean,
): number {
  let top = 0;
  let size = 0;
  labels[start] = label;
  stack[top++] = start;
  while (top > 0) {
    const p = stack[--top]!;
    size++;
    const y = Math.floor(p / width),
      x = p - y * width;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
        const q = ny * width + nx;
        if (labels[q] === 0 && isForeground(q)) {
          labels[q] = label;
          stack[top++] = q;
        }
      }
    }
  }
  return size;
}

/** Index of the first maximum (numpy `argmax`). */
function indexOfMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
