/**
 * Per-caller rate limit of the public API as a token bucket: each caller has `burst` tokens,
 * refilled continuously at `perMinute`; a request takes one, and with none left it gets 429 with
 * `Retry-After` (whole seconds until a token is back). In memory, per process: an abuse limit for
 * one server, not a quota. The Worker gateway has its own (the Workers rate-limit binding).
 *
 * Hand-written rather than `hono-rate-limiter`: that middleware counts fixed windows and answers
 * with its own body, while this needs a bucket keyed after tenant resolution and the one error body.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors.js";
import type { AppEnv } from "./context.js";

export interface RateLimitOptions {
  /** Tokens refilled per minute; 0 switches the limit off. */
  perMinute: number;
  /** Bucket size: requests a caller may make at once after being idle (default `perMinute`). */
  burst?: number;
  /** Most callers tracked at once; past it the least recently seen is forgotten (memory bound). */
  maxCallers?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly perMs: number;
  private readonly maxCallers: number;
  private readonly now: () => number;

  constructor(options: RateLimitOptions) {
    if (!(options.perMinute > 0)) throw new Error("TokenBuckets: perMinute must be positive");
    this.capacity = Math.max(1, options.burst ?? options.perMinute);
    this.perMs = options.perMinute / 60_000;
    this.maxCallers = options.maxCallers ?? 100_000;
    this.now = options.now ?? (() => Date.now());
  }

  /** Takes a token of `key`: 0 when granted, else the seconds until one is back (≥ 1). */
  take(key: string): number {
    const t = this.now();
    const previous = this.buckets.get(key);
    const tokens = previous
      ? Math.min(this.capacity, previous.tokens + (t - previous.at) * this.perMs)
      : this.capacity;
    // Re-inserting keeps the Map in least-recently-seen order, so eviction drops idle callers first.
    this.buckets.delete(key);
    if (this.buckets.size >= this.maxCallers)
      this.buckets.delete(this.buckets.keys().next().value!);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: t });
      return 0;
    }
    this.buckets.set(key, { tokens, at: t });
    return Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
  }
}

/**
 * The middleware, mounted once by the app builder after the tenant is known. `callerKey` names the
 * caller: its tenant when requests carry API keys, else its client address.
 */
export function rateLimit(
  options: RateLimitOptions,
  callerKey: (c: Context<AppEnv>) => string,
): MiddlewareHandler<AppEnv> {
  const buckets = new TokenBuckets(options);
  return async (c, next) => {
    const retryAfter = buckets.take(callerKey(c));
    if (retryAfter > 0) {
      throw new ApiError(
        "rate_limited",
        `Rate limit of ${options.perMinute} requests per minute exceeded; retry in ${retryAfter} s`,
        {
          headers: { "retry-after": String(retryAfter) },
        },
      );
    }
    await next();
  };
}
