/**
 * Qdrant client failures → our `ApiError`s, and retries for the operations that may be repeated.
 *
 * What the client throws (qdrant-js 1.18):
 * - `QdrantClientTimeoutError` when its AbortController fires;
 * - `QdrantClientResourceExhaustedError` for 429 with a Retry-After header (`retry_after` in seconds);
 * - the fetcher's `ApiError` (`status`, `statusText`, `data`) for any other non-2xx answer;
 * - `TypeError` from fetch when the server cannot be reached.
 */
import {
  QdrantClientResourceExhaustedError,
  QdrantClientTimeoutError,
} from "@qdrant/js-client-rest";
import { ApiError } from "../../errors.js";
import type { RetryOptions } from "./config.js";

const MAX_MESSAGE = 200;

interface HttpFailure {
  status: number;
  statusText?: string;
  data?: unknown;
}

function httpFailure(err: unknown): HttpFailure | null {
  if (!(err instanceof Error)) return null;
  const status = (err as Partial<HttpFailure>).status;
  return typeof status === "number" && "data" in err ? (err as Error & HttpFailure) : null;
}

function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && /fetch|network|connect/i.test(err.message);
}

/** Qdrant's `{status:{error}}` message, on one line and cut short: enough to diagnose, never a dump. */
function storeMessage(f: HttpFailure): string {
  const data = f.data as { status?: { error?: unknown } } | string | undefined;
  const raw =
    typeof data === "string"
      ? data
      : typeof data?.status?.error === "string"
        ? data.status.error
        : f.statusText || `HTTP ${f.status}`;
  const line = raw.replace(/\s+/g, " ").trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

/**
 * Any failure of a Qdrant call → ApiError: timeout or unreachable → 503; 429 → 429 with Retry-After;
 * a Qdrant 503/504 → 503 (it says "try later", like a timeout); anything else → 502 with Qdrant's
 * message trimmed. ApiErrors (e.g. our own validation) pass through.
 */
function toStoreError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof QdrantClientTimeoutError)
    return new ApiError("unavailable", "vector store timed out", { cause: err });
  if (isNetworkError(err))
    return new ApiError("unavailable", "vector store unreachable", { cause: err });
  const retryAfter = retryAfterSeconds(err);
  if (retryAfter !== null) {
    return new ApiError("rate_limited", "vector store is rate limiting requests", {
      cause: err,
      headers: { "Retry-After": String(retryAfter) },
    });
  }
  const f = httpFailure(err);
  // 408: Qdrant's own `timeout` ran out (StorageError::Timeout, qdrant src/actix/helpers.rs).
  if (f?.status === 408)
    return new ApiError("unavailable", `vector store timed out: ${storeMessage(f)}`, {
      cause: err,
    });
  if (f && (f.status === 503 || f.status === 504))
    return new ApiError("unavailable", `vector store unavailable: ${storeMessage(f)}`, {
      cause: err,
    });
  const message = f
    ? storeMessage(f)
    : err instanceof Error
      ? err.message.slice(0, MAX_MESSAGE)
      : "unknown error";
  return new ApiError("upstream_error", `vector store error: ${message}`, { cause: err });
}

/**
 * Seconds to wait for a 429, or null when `err` is not one. The client reads only the FIRST character
 * of Retry-After (qdrant-js 1.18 `api-client.ts`: `headers.get('retry-after')?.[0]`), so "12" arrives
 * as 1 and an HTTP-date makes the client throw "Invalid retryAfter value"; we keep what it gives,
 * floor it at 1 s, and fall back to 1 s when the value was lost.
 */
function retryAfterSeconds(err: unknown): number | null {
  if (err instanceof QdrantClientResourceExhaustedError)
    return Math.max(1, Math.ceil(err.retry_after || 1));
  if (err instanceof Error && err.message.startsWith("Invalid retryAfter value")) return 1;
  return httpFailure(err)?.status === 429 ? 1 : null;
}

/** Failures worth repeating: the request may not have happened, or the server asked us to come back. */
function isTransient(err: unknown): boolean {
  if (
    err instanceof QdrantClientTimeoutError ||
    isNetworkError(err) ||
    retryAfterSeconds(err) !== null
  )
    return true;
  const status = httpFailure(err)?.status;
  return status === 408 || status === 502 || status === 503 || status === 504;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Qdrant's own `timeout` (whole seconds, at least 1) for a request that has `remainingMs` left:
 * one second under it, so Qdrant stops working on a request before the client gives up on it
 * (with no server timeout it goes on after the client has left: issue 20).
 */
export function serverTimeoutS(remainingMs: number): number {
  return Math.max(1, Math.ceil(remainingMs / 1000) - 1);
}

/**
 * A write answered `wait_timeout`: Qdrant took it into its WAL but had not applied it when our
 * `timeout` ran out (`update_from_client` returns the status as is when a timeout was given,
 * qdrant lib/collection/src/collection/point_ops.rs). Not "done": mapped like a timeout, and retried
 * (our writes are idempotent).
 */
class WaitTimeoutError extends QdrantClientTimeoutError {}

/** Throws unless every result of a `wait=true` write says `completed`. */
export function checkApplied<T extends { status: string } | Array<{ status: string }>>(r: T): T {
  for (const one of Array.isArray(r) ? r : [r])
    if (one.status !== "completed")
      throw new WaitTimeoutError(`the write was not applied in time (status ${one.status})`);
  return r;
}

/** Thrown at the overall deadline: mapped like the client's own timeout. */
class DeadlineError extends QdrantClientTimeoutError {
  constructor(ms: number) {
    super(`no answer within the ${ms} ms budget`);
  }
}

/** `p`, or a `DeadlineError` after `ms`: the caller stops waiting (the request itself ends at the client timeout). */
async function within<T>(p: Promise<T>, ms: number, budgetMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(budgetMs)), ms);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `op`; when `idempotent`, repeats transient failures with exponential back-off and full jitter
 * (honouring Retry-After when it fits in `maxDelayMs`, else giving up at once so the caller's client
 * sees the 429). Non-idempotent operations run once: a timed-out create may have happened.
 * Every final failure is mapped by `toStoreError`.
 *
 * With `budgetMs`, attempts, back-offs and all share ONE deadline: the caller waits at most
 * `budgetMs` whatever happens, and `op` is given the Qdrant `timeout` (seconds) that fits in what is
 * left, to send with the request. Without, each attempt is bounded by the client's timeout only.
 */
export async function callStore<T>(
  op: (serverTimeout?: number) => Promise<T>,
  idempotent: boolean,
  retry: RetryOptions,
  budgetMs?: number,
): Promise<T> {
  const attempts = idempotent ? Math.max(1, retry.attempts) : 1;
  const deadline = budgetMs === undefined ? Infinity : Date.now() + budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const left = deadline - Date.now();
      if (budgetMs === undefined) return await op();
      if (left <= 0) throw new DeadlineError(budgetMs);
      return await within(op(serverTimeoutS(left)), left, budgetMs);
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) throw toStoreError(err);
      const backoff =
        Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      const asked = (retryAfterSeconds(err) ?? 0) * 1000;
      if (asked > retry.maxDelayMs) throw toStoreError(err);
      const wait = Math.max(backoff, asked);
      // No time left for another try after the back-off: this failure is the answer.
      if (Date.now() + wait >= deadline) throw toStoreError(err);
      await sleep(wait);
    }
  }
}
