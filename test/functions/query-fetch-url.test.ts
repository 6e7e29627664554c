/**
 * `POST /rpc/fetch-url` on the query function: the gateway's URL fetches, run here by the pinned Node
 * fetcher against a loopback image server (the same resolver and address-rule injection as
 * test/api/url-fetch.test.ts), and the gateway's client of it (`RemoteUrlFetcher`), which must pass
 * the fetcher's verdicts on unchanged and turn every other answer into our own 5xx.
 */
import { describe, expect, it } from "vitest";
import { parseGatewayEnv, type GatewayBindings } from "../../src/edge/env.js";
import { ApiError } from "../../src/lib/errors.js";
import { RemoteUrlFetcher, URL_FETCH_RPC_PATH } from "../../src/lib/remote/url-fetch.js";
import { DEFAULT_URL_POLICY } from "../../src/lib/url-fetch/policy.js";
import { generateSecret } from "../../src/lib/webhooks/standard-webhooks.js";
import { SignedClient } from "../../src/lib/webhooks/client.js";
import { parseFunctionEnv } from "../../src/node/functions/env.js";
import { createQueryFunction } from "../../src/node/functions/query/app.js";
import { SharpRenderer } from "../../src/node/render/sharp-renderer.js";
import type { UrlFetcher } from "../../src/lib/services.js";
import type { Logger } from "../../src/node/logging.js";
import type { NodeUrlFetcherOptions } from "../../src/node/url-fetch.js";
import { expectError, pngBytes } from "../api/harness.js";
import { MemoryVectorStore } from "../store/memory-store.js";
import { FakeTextEmbedder } from "../support/fakes.js";
import { useImageServer } from "../support/image-server.js";
import { SECRET, signedRequest } from "./helpers.js";

const MAX_FETCH = 300_000;
const fx = useImageServer(() => pngBytes(48, 32, [10, 120, 200]));

/** The query function with a pinned fetcher; `testRule` admits 127.0.0.1 on top of the default rule. */
function queryFunction(opts: {
  testRule: boolean;
  fetch?: Partial<NodeUrlFetcherOptions>;
  noFetcher?: boolean;
  urlFetcher?: UrlFetcher;
  log?: Logger;
}) {
  const fetcher = opts.urlFetcher ?? fx.fetcher(opts);
  const deps = {
    text: new FakeTextEmbedder(),
    vectors: new MemoryVectorStore(),
    renderer: new SharpRenderer(),
    ...(opts.noFetcher ? {} : { urlFetcher: fetcher }),
  };
  return createQueryFunction(deps, {
    secrets: [SECRET],
    maxBodyBytes: 1 << 20,
    maxFetchBytes: MAX_FETCH,
    ...(opts.log ? { log: opts.log } : {}),
  });
}

type QueryApp = ReturnType<typeof queryFunction>;
const at = (path: string, host = "images.example.test") =>
  `http://${host}:${fx.server.port}${path}`;

async function rpc(
  app: QueryApp,
  url: string,
  maxBytes = 10_000_000,
  options?: { secret?: string },
): Promise<Response> {
  return app.fetch(
    await signedRequest(`http://query${URL_FETCH_RPC_PATH}`, { url, maxBytes }, options),
  );
}

/** The one error body (test/api/harness.ts checks its shape), its message. */
const errorMessage = async (res: Response, status: number, code: string): Promise<string> =>
  (await expectError(res, status, code)).message;

describe("POST /rpc/fetch-url: the pinned fetch on the gateway's behalf", () => {
  it("returns the bytes of an allowed image, redirects followed", async () => {
    const app = queryFunction({ testRule: true });
    for (const path of ["/cat.png", "/hop/1"]) {
      const res = await rpc(app, at(path));
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(fx.png);
    }
  });

  it("refuses loopback, private, metadata, decimal, octal and hex literals without a request", async () => {
    const app = queryFunction({ testRule: false });
    const before = fx.server.hits.length;
    for (const host of [
      "127.0.0.1",
      "10.0.0.1",
      "169.254.169.254",
      "2130706433",
      "0177.0.0.1",
      "0x7f.0.0.1",
      "0x7f000001",
      "[::1]",
      "[::ffff:127.0.0.1]",
    ]) {
      expect(
        await errorMessage(await rpc(app, at("/cat.png", host)), 400, "url_not_allowed"),
        host,
      ).toMatch(/private, loopback, link-local or reserved/);
    }
    expect(fx.server.hits.length).toBe(before);
  });

  it("refuses a name resolving to a private address (pinned: the test server is never reached)", async () => {
    const app = queryFunction({ testRule: false });
    for (const host of [
      "images.example.test",
      "internal.example.test",
      "rebind.example.test",
      "v6-loopback.example.test",
    ]) {
      const before = fx.server.hits.length;
      expect(
        await errorMessage(await rpc(app, at("/cat.png", host)), 400, "url_not_allowed"),
        host,
      ).toBe(
        "The image URL is not allowed: its host name resolves to a private or reserved address",
      );
      expect(fx.server.hits.length, host).toBe(before);
    }
  });

  it("refuses a redirect to a private target, each hop re-checked", async () => {
    const app = queryFunction({ testRule: true });
    for (const path of ["/to-metadata", "/to-loopback-v6", "/to-private-name"]) {
      expect(await errorMessage(await rpc(app, at(path)), 400, "url_not_allowed"), path).toMatch(
        /private/,
      );
    }
  });

  it("caps a streamed body at the smaller of the caller's and its own limit (413), dropping the connection", async () => {
    const app = queryFunction({ testRule: true, fetch: { timeoutMs: 10_000 } });
    expect(await errorMessage(await rpc(app, at("/endless")), 413, "payload_too_large")).toMatch(
      `exceeds ${MAX_FETCH} bytes`,
    );
    await expect.poll(() => fx.server.abandoned.has("/endless")).toBe(true);
    expect(
      await errorMessage(
        await rpc(app, at("/cat.png"), fx.png.length - 1),
        413,
        "payload_too_large",
      ),
    ).toMatch(`exceeds ${fx.png.length - 1} bytes`);
  });

  it("a body that trickles past the deadline → 504, not logged as our error (a crash is)", async () => {
    const errors: unknown[] = [];
    const log = {
      info: () => undefined,
      error: (o: unknown) => errors.push(o),
    } as unknown as Logger;
    const app = queryFunction({ testRule: true, fetch: { timeoutMs: 700 }, log });
    expect(await errorMessage(await rpc(app, at("/trickle")), 504, "url_fetch_timeout")).toMatch(
      /within 700 ms/,
    );
    expect(errors).toEqual([]);
    const crashing = queryFunction({
      testRule: true,
      log,
      urlFetcher: { fetchBytes: () => Promise.reject(new Error("bug")) },
    });
    expect(await errorMessage(await rpc(crashing, at("/cat.png")), 500, "internal_error")).toBe(
      "Internal server error",
    );
    expect(errors).toHaveLength(1);
  });

  it("answers only signed calls: unsigned, badly signed or tampered → 401, nothing fetched", async () => {
    const app = queryFunction({ testRule: true });
    const before = fx.server.hits.length;
    const unsigned = new Request(`http://query${URL_FETCH_RPC_PATH}`, {
      method: "POST",
      body: JSON.stringify({ url: at("/cat.png"), maxBytes: 1000 }),
      headers: { "content-type": "application/json" },
    });
    await errorMessage(await app.fetch(unsigned), 401, "unauthorized");
    await errorMessage(
      await rpc(app, at("/cat.png"), 1000, { secret: generateSecret() }),
      401,
      "unauthorized",
    );
    const signed = await signedRequest(`http://query${URL_FETCH_RPC_PATH}`, {
      url: at("/cat.png"),
      maxBytes: 1000,
    });
    const tampered = new Request(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: JSON.stringify({ url: at("/hop/1"), maxBytes: 1000 }),
    });
    await errorMessage(await app.fetch(tampered), 401, "unauthorized");
    expect(fx.server.hits.length).toBe(before);
  });

  it("refuses a malformed call (400) and answers 501 with URL fetching off", async () => {
    const app = queryFunction({ testRule: true });
    await errorMessage(
      await app.fetch(
        await signedRequest(`http://query${URL_FETCH_RPC_PATH}`, { url: at("/cat.png") }),
      ),
      400,
      "invalid_request",
    );
    const off = queryFunction({ testRule: true, noFetcher: true });
    expect(await errorMessage(await rpc(off, at("/cat.png")), 501, "not_implemented")).toMatch(
      /not enabled/,
    );
  });
});

describe("RemoteUrlFetcher: the gateway's side of the call", () => {
  /** The client, its calls counted; `fail` replaces the query function by a network failure. */
  function client(app: QueryApp, opts: { secret?: string; fail?: boolean } = {}) {
    const calls: string[] = [];
    const signed = new SignedClient({
      baseUrl: "http://query",
      secrets: [opts.secret ?? SECRET],
      fetch: async (input, init) => {
        calls.push(String(input));
        if (opts.fail) throw new TypeError("fetch failed");
        return app.fetch(new Request(input, init));
      },
    });
    return {
      calls,
      fetcher: new RemoteUrlFetcher(signed, {
        ...DEFAULT_URL_POLICY,
        allowedPorts: [80, 443, fx.server.port],
      }),
    };
  }

  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => expect.unreachable("resolved"),
      (err: unknown) => (expect(err).toBeInstanceOf(ApiError), err as ApiError),
    );

  it("returns the fetched bytes", async () => {
    const { fetcher, calls } = client(queryFunction({ testRule: true }));
    expect(await fetcher.fetchBytes(at("/cat.png"), { maxBytes: 100_000 })).toEqual(fx.png);
    expect(calls).toEqual([`http://query${URL_FETCH_RPC_PATH}`]);
  });

  it("refuses private literals and other ports itself, without calling the query function", async () => {
    const { fetcher, calls } = client(queryFunction({ testRule: true }));
    for (const url of [
      at("/cat.png", "127.0.0.1"),
      at("/cat.png", "0x7f.1"),
      "http://169.254.169.254/latest/meta-data/",
      "http://images.example.test:8080/a.png",
      "file:///etc/passwd",
    ]) {
      expect((await refusal(fetcher.fetchBytes(url, { maxBytes: 100_000 }))).code, url).toBe(
        "url_not_allowed",
      );
    }
    expect(calls).toEqual([]);
  });

  it("passes the query function's verdicts on with their code and message", async () => {
    const { fetcher } = client(queryFunction({ testRule: true, fetch: { timeoutMs: 700 } }));
    const cases: Array<[string, string, RegExp]> = [
      [at("/to-metadata"), "url_not_allowed", /private/],
      [at("/endless"), "payload_too_large", /exceeds 300000 bytes/],
      [at("/trickle"), "url_fetch_timeout", /within 700 ms/],
      [at("/missing.png"), "url_fetch_failed", /HTTP 404/],
    ];
    for (const [url, code, message] of cases) {
      const err = await refusal(fetcher.fetchBytes(url, { maxBytes: 1_000_000 }));
      expect({ code: err.code, status: err.status }, url).toEqual({
        code,
        status: new ApiError(code as never, "").status,
      });
      expect(err.message).toMatch(message);
    }
  });

  it("turns a refused signature into 502 and an unreachable query function into 503", async () => {
    const app = queryFunction({ testRule: true });
    const badKey = await refusal(
      client(app, { secret: generateSecret() }).fetcher.fetchBytes(at("/cat.png"), {
        maxBytes: 100_000,
      }),
    );
    expect([badKey.code, badKey.message]).toEqual([
      "upstream_error",
      "The URL fetch service answered HTTP 401",
    ]);
    expect(
      (
        await refusal(
          client(app, { fail: true }).fetcher.fetchBytes(at("/cat.png"), { maxBytes: 100_000 }),
        )
      ).code,
    ).toBe("unavailable");
  });
});

describe("URL_FETCH_* in the gateway's and the query function's environments", () => {
  const gatewayVars = (extra: Record<string, string> = {}) =>
    parseGatewayEnv({
      INGEST_URL: "https://ingest.example.com",
      QUERY_URL: "https://query.example.com",
      MODEL_PACK_ID: "pack@1",
      WEBHOOK_SECRET: SECRET,
      ...extra,
    } as unknown as GatewayBindings).vars;

  it("gateway: on by default, URL_FETCH_ENABLED=false is the off switch, ports parsed for the pre-check", () => {
    expect([gatewayVars().URL_FETCH_ENABLED, gatewayVars().URL_FETCH_ALLOWED_PORTS]).toEqual([
      true,
      [80, 443],
    ]);
    expect(
      gatewayVars({ URL_FETCH_ENABLED: "false", URL_FETCH_ALLOWED_PORTS: "443, 8443" }),
    ).toMatchObject({ URL_FETCH_ENABLED: false, URL_FETCH_ALLOWED_PORTS: [443, 8443] });
    expect(() => gatewayVars({ URL_FETCH_ENABLED: "maybe" })).toThrow(/URL_FETCH_ENABLED/);
  });

  it("query function: on by default with the fetch's own limits; bad values refused", () => {
    const env = parseFunctionEnv({ WEBHOOK_SECRET: SECRET });
    expect([
      env.URL_FETCH_ENABLED,
      env.URL_FETCH_TIMEOUT_MS,
      env.URL_FETCH_MAX_REDIRECTS,
      env.URL_FETCH_ALLOWED_PORTS,
    ]).toEqual([true, 15_000, 3, [80, 443]]);
    expect(
      parseFunctionEnv({ WEBHOOK_SECRET: SECRET, URL_FETCH_ENABLED: "false" }).URL_FETCH_ENABLED,
    ).toBe(false);
    expect(() =>
      parseFunctionEnv({ WEBHOOK_SECRET: SECRET, URL_FETCH_MAX_REDIRECTS: "50" }),
    ).toThrow(/URL_FETCH_MAX_REDIRECTS/);
  });
});
