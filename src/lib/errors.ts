/**
 * The one error type of the public API and the one error body it answers with:
 * `{ "error": { "code", "message", "requestId" } }`.
 *
 * Every failure — a thrown ApiError, a zod validation failure, an image rejected by the decoder, a
 * body over the limit, or an unexpected bug — goes through `toApiError`, so clients see one shape and
 * internals (stack traces, file paths) never leak into a response.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";

/** Error code → HTTP status. A code not listed here cannot be thrown (the type forbids it). */
export const ERROR_STATUS = {
  invalid_request: 400,
  // A URL given to fetch an image from names a target the policy refuses (private address, port…).
  url_not_allowed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  // Pixel limits are limits on the content's size, like bytes: 413, so clients treat both alike.
  image_too_large: 413,
  unsupported_media_type: 415,
  invalid_image: 422,
  // The URL's server could not be reached or answered with an error: the caller's input, not ours.
  url_fetch_failed: 422,
  // A query-by-example prompt (point or box) that the segmenter turned into an empty mask.
  no_region: 422,
  rate_limited: 429,
  internal_error: 500,
  ingest_failed: 500,
  // A dependency (the vector store) answered with an error we cannot fix by retrying here.
  upstream_error: 502,
  unavailable: 503,
  not_implemented: 501,
  url_fetch_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/** 5xx answers that are no fault of ours (a feature switched off, a caller's image URL too slow): not logged as errors. */
export const EXPECTED_5XX: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "not_implemented",
  "url_fetch_timeout",
]);

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string };
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: ErrorStatus;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_STATUS[code];
  }

  static notFound(what: string): ApiError {
    return new ApiError("not_found", `${what} not found`);
  }

  static invalid(message: string): ApiError {
    return new ApiError("invalid_request", message);
  }
}

/**
 * Codes of the Node image decoder's `ImageInputError` (src/node/imaging/errors.ts). src/lib cannot
 * import src/node, so such errors are recognised by shape: an Error whose `code` is one of these.
 */
const IMAGE_INPUT_CODES = new Set<ErrorCode>([
  "unsupported_media_type",
  "payload_too_large",
  "image_too_large",
  "invalid_image",
]);

/** True for errors that say the input is bad (retrying the same bytes cannot help). */
export function isImageInputError(err: unknown): err is Error & { code: ErrorCode } {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && IMAGE_INPUT_CODES.has(code as ErrorCode);
}

/** What `formatIssues` reads of a zod issue (zod's own type, narrowed so any zod version fits). */
export interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * zod issues → `path: message; path: message`, the one wording of every failed check: environment
 * variables (`QDRANT_URL: Invalid URL`), request fields (`query.limit: Too big…`, `target` prefixing
 * the path) and signed RPC bodies. An issue about the whole value has no path: its message alone.
 */
export function formatIssues(issues: readonly IssueLike[], target?: string): string {
  return issues
    .map((issue) => {
      const path = [target, ...issue.path.map(String)].filter(Boolean).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/** A 400 naming the first failing field, e.g. `query.limit: Too big: expected number to be <=100`. */
export function validationError(error: ZodError, target?: string): ApiError {
  return new ApiError("invalid_request", formatIssues(error.issues, target) || "Invalid request", {
    details: error.issues,
  });
}

function isZodError(err: unknown): err is ZodError {
  return err instanceof Error && err.name === "ZodError" && Array.isArray((err as ZodError).issues);
}

const STATUS_CODE: Partial<Record<number, ErrorCode>> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "invalid_image",
  429: "rate_limited",
  501: "not_implemented",
  503: "unavailable",
};

/** Any thrown value → ApiError. Unknown errors become a bare 500 (the caller logs the original). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isZodError(err)) return validationError(err);
  if (isImageInputError(err)) return new ApiError(err.code, err.message, { cause: err });
  if (err instanceof HTTPException) {
    const code = STATUS_CODE[err.status] ?? "internal_error";
    // Hono's own messages ("Payload Too Large", "Malformed JSON in request body") are safe to show.
    const message = code === "internal_error" ? "Internal server error" : err.message || code;
    return new ApiError(code, message, { cause: err });
  }
  return new ApiError("internal_error", "Internal server error", { cause: err });
}

/** The one JSON error response. */
export function errorResponse(c: Context, err: ApiError): Response {
  const requestId = (c.get("requestId" as never) as string | undefined) ?? "";
  const body: ErrorBody = { error: { code: err.code, message: err.message, requestId } };
  const headers = { ...err.options.headers };
  return c.json(body, err.status, headers);
}

/** Hono `notFound` handler: unknown paths answer with the same error body. */
export function notFoundHandler(c: Context): Response {
  return errorResponse(c, new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`));
}
