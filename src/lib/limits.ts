/**
 * Every limit the public API enforces, in one place, with the defaults the embedded server uses.
 * The entry point (functions/*) may override them from its environment; nothing else hard-codes one.
 */
export interface Limits {
  /** Largest accepted upload body in bytes (raw image or whole multipart body). */
  maxUploadBytes: number;
  /** Largest accepted image in pixels (width × height), read from the header before decoding. */
  maxPixels: number;
  /** Largest accepted width or height in pixels. */
  maxSide: number;
  /** Upper bound of `limit` for search requests. */
  maxSearchLimit: number;
  /** `limit` when the request names none. */
  defaultSearchLimit: number;
  /** Longest accepted search query, in characters (the text encoder sees 77 tokens anyway). */
  maxQueryChars: number;
  /** Most image ids one search may filter on. */
  maxImageIds: number;
  /** Largest JSON body of the search endpoints. */
  maxJsonBytes: number;
  /** How long `POST /v1/images?wait=true` waits for indexing before answering 202 instead. */
  waitTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxUploadBytes: 20 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxSide: 10_000,
  maxSearchLimit: 100,
  defaultSearchLimit: 10,
  maxQueryChars: 500,
  maxImageIds: 100,
  maxJsonBytes: 64 * 1024,
  waitTimeoutMs: 120_000,
});

/**
 * Frames decoded of an animated image (APNG, animated WebP): the first only. Later frames are never
 * decoded, so a many-frame file costs what its first frame costs and no frames × area cap is needed;
 * the pixel limits above apply to that one frame (the canvas).
 */
export const DECODED_FRAMES = 1;

/** Defaults overridden by whatever the caller sets. */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...stripUndefined(overrides) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
