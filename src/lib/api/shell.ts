/**
 * The one app shell. Every Hono app this project serves — the public API (`createApp`, in the local
 * server and the Worker) and the Node functions' signed apps (src/node/functions/app.ts) — is built
 * on it, so all of them:
 * - take the caller's `x-request-id` only when it is a plain token (else a fresh UUID: the id ends
 *   up in logs and error bodies, so arbitrary text must not) and echo it in the answer;
 * - answer every failure with the one error body (src/lib/errors.ts: `{error:{code,message,requestId}}`);
 * - log one line per request, and each unexpected 5xx with the original error the client never sees.
 */
import type { Context, Hono } from "hono";
import { errorResponse, EXPECTED_5XX, notFoundHandler, toApiError } from "../errors.js";

export interface RequestLogEvent {
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  tenant?: string;
  errorCode?: string;
  /** Signed calls: the Standard Webhooks message id. */
  webhookId?: string;
}

/** Logging hook (the Node entries pass pino through src/node/logging.ts; tests pass nothing or a spy). */
export interface ApiLogger {
  request(event: RequestLogEvent): void;
  /** An unexpected (500) error, with the original error the client never sees. */
  error(err: unknown, event: { requestId: string; method: string; path: string }): void;
}

/** What the shell keeps per request. */
export interface ShellEnv {
  Variables: { requestId: string };
}

export interface ShellOptions<E extends ShellEnv> {
  logger?: ApiLogger;
  /** Fields an app adds to a request's log line, read once the request was answered (the tenant, the webhook id). */
  annotate?: (c: Context<E>) => Pick<RequestLogEvent, "tenant" | "webhookId">;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Applies the shell to a new app; call it before any route or middleware, so the request id is set
 * before anything can fail.
 */
export function applyShell<E extends ShellEnv>(app: Hono<E>, options: ShellOptions<E> = {}): void {
  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    const t0 = performance.now();
    await next();
    c.header("x-request-id", requestId);
    options.logger?.request({
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - t0) * 10) / 10,
      ...options.annotate?.(c),
      ...(c.error ? { errorCode: toApiError(c.error).code } : {}),
    });
  });
  app.onError((err, c) => handleError(err, c, options.logger));
  app.notFound(notFoundHandler);
}

function handleError(err: unknown, c: Context, logger?: ApiLogger): Response {
  const apiError = toApiError(err);
  if (apiError.status >= 500 && !EXPECTED_5XX.has(apiError.code)) {
    const requestId = (c.get("requestId") as string | undefined) ?? "";
    logger?.error(err, { requestId, method: c.req.method, path: c.req.path });
  }
  return errorResponse(c, apiError);
}
