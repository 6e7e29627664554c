/**
 * What both Node functions share: a Hono app with request ids, the one error body
 * (`{error:{code,message,requestId}}`), structured request logs, and the signature check on every
 * route except `GET /healthz`.
 */
import { Hono } from "hono";
import { errorResponse, EXPECTED_5XX, notFoundHandler, toApiError } from "../../lib/errors.js";
import { verifySignature, type SignedEnv } from "../../lib/webhooks/middleware.js";
import type { Logger } from "../logging.js";

export type FunctionApp = Hono<SignedEnv>;

export interface FunctionAppOptions {
  name: string;
  /** `whsec_…`; the first signs, all verify. */
  secrets: readonly string[];
  /** Largest signed body accepted. */
  maxBodyBytes: number;
  log?: Logger;
}

export function createFunctionApp(options: FunctionAppOptions): FunctionApp {
  const app = new Hono<SignedEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", c.req.header("x-request-id") ?? crypto.randomUUID());
    const t0 = performance.now();
    await next();
    c.header("x-request-id", c.get("requestId"));
    options.log?.info({ event: "request", fn: options.name, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - t0), webhookId: c.get("webhook")?.id }, "request");
  });
  app.get("/healthz", (c) => c.json({ status: "ok", function: options.name }));
  app.use("*", verifySignature(options.secrets, { maxBytes: options.maxBodyBytes }));
  app.onError((err, c) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500 && !EXPECTED_5XX.has(apiError.code)) options.log?.error({ event: "unhandled_error", fn: options.name, err, path: c.req.path }, "unhandled error");
    return errorResponse(c, apiError);
  });
  app.notFound(notFoundHandler);
  return app;
}
