/**
 * COCO compressed run-length encoding, as pycocotools writes it.
 * `size` is `[height, width]`; `counts` is the LEB128-like ASCII string of alternating run lengths
 * (starting with a run of zeros) over the mask read in column-major (Fortran) order.
 */
export interface CocoRle {
  size: [number, number];
  counts: string;
}

/** Box as `[x, y, width, height]` in pixels, x/y of the top-left corner (COCO's convention). */
export type BoxXywh = [number, number, number, number];

/** Box as `[x0, y0, x1, y1]` in pixels, x1/y1 exclusive (SAM's convention for `batched_mask_to_box` is inclusive; see masks/boxes.ts). */
export type BoxXyxy = [number, number, number, number];
