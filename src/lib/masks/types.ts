/**
 * COCO compressed run-length encoding, as pycocotools writes it.
 * `size` is `[height, width]`; `counts` is the LEB128-like ASCII string of alternating run lengths
 * (starting with a run of zeros) over the mask read in column-major (Fortran) order.
 * See `masks/rle.ts` for the exact string encoding.
 */
export interface CocoRle {
  size: [number, number];
  counts: string;
}

/**
 * Box as `[x, y, width, height]` in pixels, x/y of the top-left corner (COCO's convention).
 * pycocotools' `toBbox` gives the exclusive extent (`width = maxX − minX + 1`); SAM's AMG output
 * `bbox` is `box_xyxy_to_xywh` of an inclusive box (`width = maxX − minX`). Producers say which.
 */
export type BoxXywh = [number, number, number, number];

/**
 * Box as `[x0, y0, x1, y1]` in pixels. Whether `x1`/`y1` are inclusive (last covered pixel, as in
 * SAM's `batched_mask_to_box`, see `maskToBoxXyxyRowMajor`) or exclusive (one past it, as in crop
 * boxes) is stated by the function that produces the box. IoU/NMS treat the box as a continuous
 * rectangle of area `(x1 − x0)·(y1 − y0)`, as torchvision does, whatever the convention.
 */
export type BoxXyxy = [number, number, number, number];
