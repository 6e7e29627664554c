/**
 * Every limit the public API enforces, in one place, with the defaults the embedded server uses.
 * The entry point (functions/*) may override them from its environment; nothing else hard-codes one.
 * The image limits (bytes, sides, pixels) are image intake's (src/lib/intake/limits.ts), so the API,
 * the gateway, the functions and the decoder share one type and one set of defaults.
 */
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./intake/index.js";

export interface Limits extends ImageLimits {
  /** Upper bound of `limit` for search requests. */
  maxSearchLimit: number;
  /** `limit` when the request names none. */
  defaultSearchLimit: number;
  /** Longest accepted search query, in characters (the text encoder sees 77 tokens anyway). */
  maxQueryChars: number;
  /** Largest `offset` of a search (a page costs `offset + limit` hits of the store). */
  maxSearchOffset: number;
  /** Most image ids one search may filter on. */
  maxImageIds: number;
  /** Largest JSON body of the search endpoints. */
  maxJsonBytes: number;
  /** How long `POST /v1/images?wait=true` waits for indexing before answering 202 instead. */
  waitTimeoutMs: number;
  /** Most image records one `GET /v1/images` answers with. */
  maxListLimit: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  ...DEFAULT_IMAGE_LIMITS,
  maxSearchLimit: 100,
  defaultSearchLimit: 10,
  maxQueryChars: 500,
  maxSearchOffset: 1000,
  maxImageIds: 100,
  maxJsonBytes: 64 * 1024,
  waitTimeoutMs: 120_000,
  maxListLimit: 1000,
});

/**
 * Fetching an image by URL (`POST /v1/images` with `{url}`). The body is capped by `maxUploadBytes`
 * while it streams; these bound everything else a caller-chosen server could make us wait for.
 */
export interface UrlFetchLimits {
  /** The whole fetch, every redirect and the body included. */
  timeoutMs: number;
  /** One TCP (+TLS) connection (Node only; Workers' fetch has no such knob). */
  connectTimeoutMs: number;
  /** Redirects followed, each re-checked against the policy. */
  maxRedirects: number;
  /** Ports a URL may name (its scheme's default port when it names none). */
  allowedPorts: readonly number[];
}

export const DEFAULT_URL_FETCH: Readonly<UrlFetchLimits> = Object.freeze({
  timeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  maxRedirects: 3,
  allowedPorts: Object.freeze([80, 443]),
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
