/** Serves a Hono app with the real `@hono/node-server` on a loopback port (tests that need a socket). */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";

export async function listen(app: {
  fetch: (request: Request, env?: never) => Response | Promise<Response>;
}) {
  const server = serve({ fetch: app.fetch as never, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) =>
    server.listening ? resolve() : server.once("listening", () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${port}`, port, server, close };
}
