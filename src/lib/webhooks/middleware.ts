/**
 * Hono middleware that admits only requests signed per Standard Webhooks. The raw body is read once
 * here (the signature covers its exact bytes) and handed on as `c.get("webhook")`, so handlers parse
 * the same text that was verified.
 */
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors.js";
import { readCappedText } from "./body.js";
import { WebhookVerificationError } from "./errors.js";
import type { ReplayLedger } from "./replay.js";
import { DEFAULT_TOLERANCE_SEC, verify, type VerifiedWebhook } from "./standard-webhooks.js";

export interface SignedRequest extends VerifiedWebhook {
  body: string;
}

export interface SignedEnv {
  Variables: { webhook: SignedRequest; requestId: string };
}

export interface VerifyMiddlewareOptions {
  /** Largest body read (counted as it streams, so chunked bodies are capped too); more is a 413. */
  maxBytes: number;
  toleranceSec?: number;
  /** Refuse a second delivery of a verified message id (409) while its timestamp is in the window. */
  replays?: ReplayLedger;
}

export function verifySignature(
  secrets: readonly string[],
  options: VerifyMiddlewareOptions,
): MiddlewareHandler<SignedEnv> {
  if (secrets.length === 0) throw new Error("verifySignature: no webhook secret configured");
  return async (c, next) => {
    const body = await readCappedText(c.req.raw, options.maxBytes);
    try {
      const verified = await verify(secrets, c.req.raw.headers, body, {
        toleranceSec: options.toleranceSec,
      });
      c.set("webhook", { ...verified, body });
    } catch (err) {
      if (err instanceof WebhookVerificationError)
        throw new ApiError("unauthorized", `Webhook signature refused: ${err.message}`);
      throw err;
    }
    const { id, timestamp } = c.get("webhook");
    const expires = (timestamp + (options.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) * 1000;
    if (options.replays && !options.replays.claim(id, expires)) {
      throw new ApiError(
        "conflict",
        "Webhook message already received: a replay is not executed again (sign each call with a fresh webhook-id)",
      );
    }
    await next();
  };
}

/** Parses the verified body as JSON (a 400 when it is not). */
export function signedJson(signed: SignedRequest): unknown {
  try {
    return JSON.parse(signed.body);
  } catch {
    throw ApiError.invalid("Body is not valid JSON");
  }
}
