/**
 * Automatic-mask-generation parameters: SAM's `SamAutomaticMaskGenerator` defaults, and the schema
 * for the partial overrides a model pack's manifest may carry in `segmenter.amg`.
 */
import { z } from "zod";

/** SAM's AMG knobs, camel-cased (`points_per_side` → `pointsPerSide`). */
export interface AmgParams {
  /** Grid points per image side (layer 0); SAM builds `pointsPerSide²` single-point prompts. */
  pointsPerSide: number;
  /** Prompts per decoder call. */
  pointsPerBatch: number;
  /** Keep masks whose predicted IoU is `> predIouThresh` (0 disables the filter, as in SAM). */
  predIouThresh: number;
  /** Keep masks whose stability score is `>= stabilityScoreThresh` (0 disables the filter). */
  stabilityScoreThresh: number;
  /** δ of the stability score: IoU of `logits > t + δ` vs `logits > t − δ`. */
  stabilityScoreOffset: number;
  /** IoU above which NMS drops duplicates within one crop. */
  boxNmsThresh: number;
  /** Extra crop layers (0 = the whole image only). */
  cropNLayers: number;
  /** IoU above which NMS drops duplicates across crops. */
  cropNmsThresh: number;
  /** Crop overlap as a fraction of the image's short side (layer 1; halved per later layer). */
  cropOverlapRatio: number;
  /** Points per side shrink by this factor per crop layer. */
  cropNPointsDownscaleFactor: number;
  /** Fill holes / drop islands smaller than this many pixels (0 disables the post-processing). */
  minMaskRegionArea: number;
  /**
   * NOT SAM: final duplicate removal on the MASKS (not boxes, see dedupe.ts). A region whose mask
   * IoU with a better-predicted kept region is `> maskNmsThresh` is dropped (1 disables).
   */
  maskNmsThresh: number;
  /**
   * NOT SAM: a region with more than this fraction of its pixels inside a better-predicted kept
   * region is dropped (1 disables). Removes sub-parts; also removes genuinely nested objects, so a
   * pack enables it only where its validation split shows it pays (see docs/quality-tuning.md).
   */
  containedThresh: number;
}

/** The defaults of segment-anything's `SamAutomaticMaskGenerator.__init__` (our two extra steps off). */
export const SAM_AMG_DEFAULTS: Readonly<AmgParams> = Object.freeze({
  pointsPerSide: 32,
  pointsPerBatch: 64,
  predIouThresh: 0.88,
  stabilityScoreThresh: 0.95,
  stabilityScoreOffset: 1.0,
  boxNmsThresh: 0.7,
  cropNLayers: 0,
  cropNmsThresh: 0.7,
  cropOverlapRatio: 512 / 1500,
  cropNPointsDownscaleFactor: 1,
  minMaskRegionArea: 0,
  maskNmsThresh: 1,
  containedThresh: 1,
});

const fraction = z.number().min(0).max(1);

/**
 * Partial overrides (every key optional, unknown keys rejected so typos do not pass silently).
 * Bounds are sanity limits, not SAM's: SAM does not validate at all.
 */
export const amgParamsSchema = z
  .strictObject({
    pointsPerSide: z.int().min(1).max(256),
    pointsPerBatch: z.int().min(1).max(4096),
    predIouThresh: fraction,
    stabilityScoreThresh: fraction,
    stabilityScoreOffset: z.number().min(0).max(100),
    boxNmsThresh: fraction,
    cropNLayers: z.int().min(0).max(4),
    cropNmsThresh: fraction,
    cropOverlapRatio: z.number().min(0).lt(1),
    cropNPointsDownscaleFactor: z.int().min(1).max(16),
    minMaskRegionArea: z.int().min(0),
    maskNmsThresh: fraction,
    containedThresh: fraction,
  })
  .partial();

export type AmgParamsOverrides = z.infer<typeof amgParamsSchema>;

/**
 * The `AMG_OVERRIDES` environment variable: a JSON object of the keys above, put over the model
 * pack's `segmenter.amg` at the entry (e.g. `{"cropNLayers":1,"cropNPointsDownscaleFactor":2}`
 * trades about 2× the segmentation time for small-object recall with shapes-tiny). Unset → the
 * pack's own settings.
 */
export const amgOverridesEnvField = z
  .string()
  .optional()
  .transform((s, ctx): AmgParamsOverrides | undefined => {
    if (s === undefined || s.trim() === "") return undefined;
    let json: unknown;
    try {
      json = JSON.parse(s);
    } catch {
      ctx.addIssue({
        code: "custom",
        message: 'expected a JSON object of AMG keys, e.g. {"cropNLayers":0}',
      });
      return z.NEVER;
    }
    const parsed = amgParamsSchema.safeParse(json);
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: describeIssues(parsed.error.issues) });
      return z.NEVER;
    }
    return parsed.data;
  });

/**
 * Validate `overrides` (e.g. a manifest's `segmenter.amg`; `undefined`/`null` mean none) and merge
 * them over `SAM_AMG_DEFAULTS`. Throws an Error naming the offending key.
 */
export function resolveAmgParams(overrides: unknown): AmgParams {
  if (overrides === undefined || overrides === null) return { ...SAM_AMG_DEFAULTS };
  const parsed = amgParamsSchema.safeParse(overrides);
  if (!parsed.success)
    throw new Error(`invalid AMG parameters: ${describeIssues(parsed.error.issues)}`);
  const params: AmgParams = { ...SAM_AMG_DEFAULTS };
  for (const [key, value] of Object.entries(parsed.data) as [
    keyof AmgParams,
    number | undefined,
  ][]) {
    if (value !== undefined) params[key] = value;
  }
  const lastLayerPoints = Math.floor(
    params.pointsPerSide / params.cropNPointsDownscaleFactor ** params.cropNLayers,
  );
  if (lastLayerPoints < 1) {
    throw new Error(
      `invalid AMG parameters: cropNPointsDownscaleFactor ${params.cropNPointsDownscaleFactor} leaves crop layer ` +
        `${params.cropNLayers} with no points (pointsPerSide ${params.pointsPerSide})`,
    );
  }
  return params;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [issue.path.join(".")];
      const where =
        keys.length > 0 && keys.some((k) => k !== "")
          ? keys.map((k) => `"${k}"`).join(", ")
          : "overrides";
      return `${where}: ${issue.message}`;
    })
    .join("; ");
}
