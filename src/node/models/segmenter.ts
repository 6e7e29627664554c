/**
 * The SAM-contract segmenter of a pack: the image encoder (once per image or crop) and the prompt
 * decoder, preferring the batched form (many single-point prompts per call) and falling back to
 * the official single-prompt decoder (one call per point).
 */
import type { InferenceSession, Tensor } from "onnxruntime-node";
import type { ModelPack } from "./pack.js";
import { segmenterGeometry, segmenterInput, type RgbImage, type SegmenterGeometry } from "./preprocess.js";
import { ort, runFloat } from "./session.js";
import { addTime, type StageTimings } from "./timings.js";

/** An encoded image (or crop): the embedding tensor plus the geometry its prompts live in. */
export interface ImageEncoding {
  /** `[1, C, h, w]` image embedding, fed unchanged to every decoder call. */
  embeddings: Tensor;
  /** Size of the image (or crop) that was encoded. */
  height: number;
  width: number;
  geometry: SegmenterGeometry;
}

/** Output of one decoder batch, in the layout `filterDecoderBatch` expects. */
export interface DecodedBatch {
  /** B: prompts. */
  batchSize: number;
  /** M: masks per prompt (4 for SAM: index 0 single-mask, 1..3 multimask). */
  masksPerPrompt: number;
  lowH: number;
  lowW: number;
  /** `[B, M]` predicted IoU. */
  iouPredictions: Float32Array;
  /** `[B, M, lowH, lowW]` mask logits over the padded S×S frame. */
  lowResLogits: Float32Array;
}

export interface SegmenterOptions {
  /** Use the single-prompt decoder even when the pack has a batched one (tests, comparisons). */
  preferSingleDecoder?: boolean;
  /**
   * Append SAM's padding point `(0, 0)` with label −1 to every single-point prompt, as
   * segment-anything's predictor does (its prompt encoder pads when no box is given) and as its
   * ONNX example does by hand. Default true.
   */
  padPrompts?: boolean;
}

export interface Segmenter {
  readonly usesBatchedDecoder: boolean;
  readonly imageSize: number;
  /** Preprocess (timed as "preprocess") and run the encoder (timed as "encoder"). */
  encode(image: RgbImage, timings?: StageTimings): Promise<ImageEncoding>;
  /**
   * Decode one single-point positive prompt per point. `points` is `[B, 2]` of `(x, y)` in the
   * RESIZED frame of `encoding` (SAM's `apply_coords`: `x · resizedW / width`).
   */
  decode(encoding: ImageEncoding, points: Float32Array): Promise<DecodedBatch>;
}

export function createSegmenter(pack: ModelPack, options: SegmenterOptions = {}): Segmenter {
  const seg = pack.manifest.segmenter;
  const encoder = pack.sessions.encoder;
  if (!encoder) throw new Error(`model pack ${pack.id}: the segmenter encoder is not loaded`);
  const batched = options.preferSingleDecoder ? undefined : pack.sessions.batchedDecoder;
  const single = pack.sessions.decoder;
  if (!batched && !single) throw new Error(`model pack ${pack.id}: no segmenter decoder is loaded`);
  const pad = options.padPrompts ?? true;
  const S = seg.imageSize;
  const zeros = new ZeroCache();

  return {
    usesBatchedDecoder: batched !== undefined,
    imageSize: S,
    async encode(image, timings = {}) {
      const t0 = performance.now();
      const geometry = segmenterGeometry(image.height, image.width, S);
      const input = segmenterInput(image, geometry, seg.pixelMean, seg.pixelStd);
      addTime(timings, "preprocess", t0);
      const t1 = performance.now();
      const result = await encoder.run({ image: new ort.Tensor("float32", input, [1, 3, S, S]) }, ["image_embeddings"]);
      const embeddings = result["image_embeddings"];
      if (!embeddings || embeddings.dims.length !== 4) throw new Error("segmenter encoder returned no [1, C, h, w] image_embeddings");
      addTime(timings, "encoder", t1);
      return { embeddings, height: image.height, width: image.width, geometry };
    },
    async decode(encoding, points) {
      const lowSize = maskInputSize(encoding.embeddings);
      if (batched) return decodeBatched(batched, encoding, points, pad, lowSize, zeros);
      return decodeOneByOne(single!, encoding, points, pad, lowSize, zeros);
    },
  };
}

/** SAM's mask prompt is 4× the embedding grid (`mask_input` [*, 1, 4h, 4w]). */
function maskInputSize(embeddings: Tensor): [number, number] {
  return [4 * embeddings.dims[2]!, 4 * embeddings.dims[3]!];
}

/** Zero-filled buffers by length, shared read-only (ORT never writes its inputs). */
class ZeroCache {
  private readonly byLength = new Map<number, Float32Array>();
  get(length: number): Float32Array {
    let z = this.byLength.get(length);
    if (!z) this.byLength.set(length, (z = new Float32Array(length)));
    return z;
  }
}

/** `[B, N, 2]` coords and `[B, N]` labels: each prompt is its point (label 1), plus the padding point. */
function promptTensors(points: Float32Array, pad: boolean): { coords: Float32Array; labels: Float32Array; n: number } {
  const b = points.length / 2, n = pad ? 2 : 1;
  const coords = new Float32Array(b * n * 2), labels = new Float32Array(b * n);
  for (let i = 0; i < b; i++) {
    coords[i * n * 2] = points[i * 2]!;
    coords[i * n * 2 + 1] = points[i * 2 + 1]!;
    labels[i * n] = 1;
    if (pad) labels[i * n + 1] = -1; // coords stay (0, 0)
  }
  return { coords, labels, n };
}

async function decodeBatched(
  session: InferenceSession, enc: ImageEncoding, points: Float32Array, pad: boolean,
  [lh, lw]: [number, number], zeros: ZeroCache,
): Promise<DecodedBatch> {
  const b = points.length / 2;
  const { coords, labels, n } = promptTensors(points, pad);
  const out = await runFloat(session, {
    image_embeddings: enc.embeddings,
    point_coords: new ort.Tensor("float32", coords, [b, n, 2]),
    point_labels: new ort.Tensor("float32", labels, [b, n]),
    mask_input: new ort.Tensor("float32", zeros.get(b * lh * lw), [b, 1, lh, lw]),
    has_mask_input: new ort.Tensor("float32", zeros.get(b), [b]),
  }, ["iou_predictions", "low_res_masks"]);
  return asBatch(out["iou_predictions"]!, out["low_res_masks"]!, b);
}

/**
 * The official decoder has batch 1 and treats all its points as one prompt, so each grid point is
 * its own call. `orig_im_size` is set to the resized size so the `masks` output it always computes
 * stays small (we only read the low-res logits).
 */
async function decodeOneByOne(
  session: InferenceSession, enc: ImageEncoding, points: Float32Array, pad: boolean,
  [lh, lw]: [number, number], zeros: ZeroCache,
): Promise<DecodedBatch> {
  const b = points.length / 2;
  const origSize = new ort.Tensor("float32", Float32Array.of(enc.geometry.resizedH, enc.geometry.resizedW), [2]);
  const maskInput = new ort.Tensor("float32", zeros.get(lh * lw), [1, 1, lh, lw]);
  const hasMask = new ort.Tensor("float32", zeros.get(1), [1]);
  let iou: Float32Array | null = null, low: Float32Array | null = null, first: DecodedBatch | null = null;
  for (let i = 0; i < b; i++) {
    const { coords, labels, n } = promptTensors(points.subarray(i * 2, i * 2 + 2), pad);
    const out = await runFloat(session, {
      image_embeddings: enc.embeddings,
      point_coords: new ort.Tensor("float32", coords, [1, n, 2]),
      point_labels: new ort.Tensor("float32", labels, [1, n]),
      mask_input: maskInput,
      has_mask_input: hasMask,
      orig_im_size: origSize,
    }, ["iou_predictions", "low_res_masks"]);
    const one = asBatch(out["iou_predictions"]!, out["low_res_masks"]!, 1);
    if (!first) {
      first = one;
      iou = new Float32Array(b * one.iouPredictions.length);
      low = new Float32Array(b * one.lowResLogits.length);
    }
    iou!.set(one.iouPredictions, i * one.iouPredictions.length);
    low!.set(one.lowResLogits, i * one.lowResLogits.length);
  }
  if (!first) return { batchSize: 0, masksPerPrompt: 0, lowH: lh, lowW: lw, iouPredictions: new Float32Array(0), lowResLogits: new Float32Array(0) };
  return { ...first, batchSize: b, iouPredictions: iou!, lowResLogits: low! };
}

function asBatch(
  iou: { data: Float32Array; dims: readonly number[] },
  low: { data: Float32Array; dims: readonly number[] },
  b: number,
): DecodedBatch {
  const [lb, m, lowH, lowW] = low.dims;
  if (low.dims.length !== 4 || lb !== b || m === undefined || lowH === undefined || lowW === undefined) {
    throw new Error(`segmenter decoder returned low_res_masks [${low.dims.join(", ")}], expected [${b}, M, h, w]`);
  }
  if (iou.data.length !== b * m) throw new Error(`segmenter decoder returned iou_predictions [${iou.dims.join(", ")}], expected [${b}, ${m}]`);
  return { batchSize: b, masksPerPrompt: m, lowH, lowW, iouPredictions: iou.data, lowResLogits: low.data };
}
