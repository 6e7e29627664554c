/**
 * A loopback HTTP server that plays every kind of image host the URL fetcher must survive: a real
 * image, redirect chains (also to private targets), a server that never answers, one that trickles,
 * an endless chunked body, a lying Content-Length, errors and non-images. It records which paths were
 * requested and whether the client hung up on a response.
 */
import type { LookupAddress } from "node:dns";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll } from "vitest";
import { DEFAULT_URL_FETCH } from "../../src/lib/limits.js";
import { isPublicAddress } from "../../src/lib/url-fetch/policy.js";
import { createNodeUrlFetcher, type NodeUrlFetcherOptions } from "../../src/node/url-fetch.js";

/** The test names the Node fetcher's injected resolver knows (there is no DNS in CI). */
const TEST_NAMES: Record<string, string[]> = {
  "images.example.test": ["127.0.0.1"],
  "internal.example.test": ["10.0.0.5"],
  // One public and one loopback answer: the name is refused as a whole.
  "rebind.example.test": ["93.184.216.34", "127.0.0.1"],
  "v6-loopback.example.test": ["::1"],
};

/** A `Resolver` for the Node fetcher over TEST_NAMES; anything else is ENOTFOUND. */
export async function resolveTestName(hostname: string): Promise<LookupAddress[]> {
  const ips = TEST_NAMES[hostname];
  if (!ips)
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
  return ips.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
}

/** The default address rule plus 127.0.0.1, so that a test name can reach the loopback image server. */
export const admitLoopbackServer = (ip: string): boolean =>
  ip === "127.0.0.1" || isPublicAddress(ip);

export interface ImageServer {
  port: number;
  /** Paths requested, in order. */
  hits: string[];
  /** Paths whose response the client abandoned before it ended. */
  abandoned: Set<string>;
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse, server: { port: number }) => void;

const CHUNK = new Uint8Array(64 * 1024).fill(7);

function endless(res: ServerResponse): void {
  // No Content-Length: chunked, for as long as the client reads.
  res.writeHead(200, { "content-type": "image/png" });
  const pump = () => {
    while (!res.destroyed && res.write(CHUNK));
    if (!res.destroyed) res.once("drain", pump);
  };
  pump();
}

function trickle(res: ServerResponse, png: Uint8Array): void {
  res.writeHead(200, { "content-type": "image/png" });
  let i = 0;
  const timer = setInterval(
    () =>
      res.destroyed || i >= png.length ? clearInterval(timer) : res.write(png.subarray(i, ++i)),
    200,
  );
  res.on("close", () => clearInterval(timer));
}

export function imageRoutes(png: Uint8Array, privateName: string): Record<string, Route> {
  const redirect = (res: ServerResponse, location: string, status = 302) =>
    res.writeHead(status, { location }).end();
  return {
    "/cat.png": (_q, res) =>
      res.writeHead(200, { "content-type": "image/png", "content-length": png.length }).end(png),
    // Lies about its type: the bytes decide.
    "/cat.bin": (_q, res) =>
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(png),
    "/hop/1": (_q, res) => redirect(res, "/hop/2", 301),
    "/hop/2": (_q, res) => redirect(res, "/hop/3", 307),
    "/hop/3": (_q, res) => redirect(res, "/cat.png", 308),
    "/loop": (_q, res) => redirect(res, "/loop"),
    "/to-metadata": (_q, res) => redirect(res, "http://169.254.169.254/latest/meta-data/"),
    "/to-loopback-v6": (_q, res, s) => redirect(res, `http://[::1]:${s.port}/cat.png`),
    "/to-private-name": (_q, res, s) => redirect(res, `http://${privateName}:${s.port}/cat.png`),
    "/to-file": (_q, res) => redirect(res, "file:///etc/passwd"),
    "/no-location": (_q, res) => res.writeHead(302).end(),
    "/missing.png": (_q, res) =>
      res.writeHead(404, { "content-type": "text/plain" }).end("not here"),
    "/text": (_q, res) =>
      res.writeHead(200, { "content-type": "text/plain" }).end("hello, I am no image"),
    "/empty": (_q, res) => res.writeHead(200, { "content-length": 0 }).end(),
    "/huge-declared": (_q, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": 1 << 30 });
      res.write(png);
    },
    "/endless": (_q, res) => endless(res),
    "/hang": () => undefined,
    "/trickle": (_q, res) => trickle(res, png),
  };
}

export async function startImageServer(routes: Record<string, Route>): Promise<ImageServer> {
  const hits: string[] = [];
  const abandoned = new Set<string>();
  const state = { port: 0 };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    hits.push(path);
    res.on("close", () => {
      if (!res.writableFinished) abandoned.add(path);
    });
    const route = routes[path];
    if (route) route(req, res, state);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  return {
    port: state.port,
    hits,
    abandoned,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A test file's image server, serving `makePng()`'s image under `imageRoutes` (private name:
 * internal.example.test), started before the file's tests and closed after them; whatever a test
 * pushes onto `open` (fetchers, harnesses) is closed after that test. `fetcher` is a pinned Node
 * fetcher that knows the test names; `testRule` admits 127.0.0.1 on top of the default rule.
 */
export function useImageServer(makePng: () => Promise<Uint8Array>) {
  const fx = {
    png: new Uint8Array(0) as Uint8Array,
    server: undefined as unknown as ImageServer,
    open: [] as Array<{ close(): Promise<void> }>,
    fetcher(opts: { testRule: boolean; fetch?: Partial<NodeUrlFetcherOptions> }) {
      const fetcher = createNodeUrlFetcher({
        ...DEFAULT_URL_FETCH,
        allowedPorts: [80, 443, fx.server.port],
        timeoutMs: 1_500,
        resolve: resolveTestName,
        ...(opts.testRule ? { isAllowedAddress: admitLoopbackServer } : {}),
        ...opts.fetch,
      });
      fx.open.push(fetcher);
      return fetcher;
    },
  };
  beforeAll(async () => {
    fx.png = await makePng();
    fx.server = await startImageServer(imageRoutes(fx.png, "internal.example.test"));
  });
  afterAll(() => fx.server.close());
  afterEach(async () => {
    await Promise.all(fx.open.splice(0).map((x) => x.close()));
  });
  return fx;
}
