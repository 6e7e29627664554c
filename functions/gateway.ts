/**
 * The Cloudflare Worker: `fetch` serves the public API (src/edge/gateway.ts), `queue` consumes the
 * ingest, dead-letter and storage-event queues (src/edge/consumer.ts). Bindings and variables are
 * parsed once per isolate; wrangler.toml documents every one.
 */
import type { ExecutionContext, MessageBatch } from "@cloudflare/workers-types";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../src/lib/api/context.js";
import { handleQueue } from "../src/edge/consumer.js";
import { parseGatewayEnv, type GatewayBindings, type GatewayConfig } from "../src/edge/env.js";
import { createGateway } from "../src/edge/gateway.js";

let cached: { env: GatewayBindings; config: GatewayConfig; app: OpenAPIHono<AppEnv> } | undefined;

/** Config and app for this isolate's env (rebuilt only if the runtime hands us another env). */
function gateway(env: GatewayBindings) {
  if (cached?.env !== env) {
    const config = parseGatewayEnv(env);
    cached = { env, config, app: createGateway(config) };
  }
  return cached;
}

export default {
  fetch(
    request: Request,
    env: GatewayBindings,
    ctx: ExecutionContext,
  ): Response | Promise<Response> {
    return gateway(env).app.fetch(request, env, ctx as never);
  },
  async queue(batch: MessageBatch<unknown>, env: GatewayBindings): Promise<void> {
    await handleQueue(batch, gateway(env).config);
  },
};
