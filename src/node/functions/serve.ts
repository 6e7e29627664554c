/**
 * How a function entry runs: as a plain HTTP server (container, `node functions/x.ts`) or on AWS
 * Lambda through Hono's adapter. The app is built lazily once per process (model loading is slow;
 * on Lambda it happens on the first invocation of a fresh instance).
 */
import { serve } from "@hono/node-server";
import { handle } from "hono/aws-lambda";
import type { Logger } from "../logging.js";
import type { FunctionApp } from "./types.js";

export type AppFactory = () => Promise<{ app: FunctionApp; close?: () => Promise<void> }>;

/** The Lambda `handler` of an entry. */
export function lambdaHandler(factory: AppFactory) {
  let handler: ReturnType<typeof handle> | undefined;
  return async (
    event: Parameters<ReturnType<typeof handle>>[0],
    context: Parameters<ReturnType<typeof handle>>[1],
  ) => {
    handler ??= handle((await factory()).app);
    return handler(event, context);
  };
}

/** Serves the app on HOST:PORT until SIGINT/SIGTERM, then closes it. */
export async function serveHttp(
  factory: AppFactory,
  listen: { port: number; hostname: string },
  log: Logger,
  name: string,
): Promise<void> {
  const { app, close } = await factory();
  serveApps([{ name, app, port: listen.port }], listen.hostname, log, close);
}

/**
 * Serves each app on its own port (one process may host both functions: functions/ingest-query.ts)
 * until SIGINT/SIGTERM; then stops accepting, lets running requests finish, and closes once.
 */
export function serveApps(
  apps: readonly { name: string; app: FunctionApp; port: number }[],
  hostname: string,
  log: Logger,
  close?: () => Promise<void>,
): void {
  const servers = apps.map(({ name, app, port }) =>
    serve({ fetch: app.fetch, port, hostname }, (info) =>
      log.info(
        { event: "listening", fn: name, port: info.port },
        `${name} listening on :${info.port}`,
      ),
    ),
  );
  const shutdown = (signal: string) => {
    log.info({ event: "shutdown", fn: apps.map((a) => a.name).join("+"), signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 30_000).unref();
    void Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))))
      .then(() => close?.())
      .finally(() => {
        clearTimeout(force);
        process.exit(0);
      });
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

/** True when this module is the process entry (a container), false when imported (Lambda, tests). */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  return (
    entry !== undefined &&
    new URL(metaUrl).pathname.replace(/\.[cm]?[jt]s$/, "") === entry.replace(/\.[cm]?[jt]s$/, "")
  );
}
