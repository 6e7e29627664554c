export type { BoxXywh, BoxXyxy, CocoRle } from "./types.js";
export {
  rleArea,
  rleCountsFromRowMajorMask,
  rleCountsFromString,
  rleCountsToString,
  rleDecodeToRowMajor,
  rleEncodeRowMajor,
  rleIou,
  rleToBoxXywh,
} from "./rle.js";
export {
  boxAreaXyxy,
  boxIouXyxy,
  boxXywhToXyxy,
  boxXyxyToXywh,
  logitsToBoxXyxyRowMajor,
  maskBoxAndAreaInWindowRowMajor,
  maskToBoxXyxyRowMajor,
} from "./boxes.js";
export { nmsXyxy } from "./nms.js";
export { maskIouRowMajor } from "./iou.js";
export {
  lowResBoxToOriginalXyxy,
  resizedSizeLongestSide,
  upsampleWindowXyxy,
  thresholdLogits,
  upsampleLowResLogits,
  upsampleLowResLogitsToMask,
} from "./resize.js";
