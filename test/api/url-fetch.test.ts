/**
 * `POST /v1/images` with `{url}` through the real app and the Node fetcher (undici, pinned
 * addresses) against a real loopback image server. Loopback is refused by the default policy, so the
 * allowed cases use a resolver that maps test names to 127.0.0.1 plus an address rule — both given
 * in code — that admits 127.0.0.1 only; the refusals then prove the *default* rule refuses the very
 * same server by its real address and by a name resolving to it. No refusal stores anything.
 */
import { describe, expect, it } from "vitest";
import type { NodeUrlFetcherOptions } from "../../src/node/url-fetch.js";
import { parseEnv } from "../../src/node/server/env.js";
import { sha256 } from "../support/fakes.js";
import { useImageServer } from "../support/image-server.js";
import { expectError, makeHarness, pngBytes, postJson, type Harness } from "./harness.js";

const MAX_UPLOAD = 300_000;
const fx = useImageServer(() => pngBytes(48, 32, [10, 120, 200]));

/** A harness whose fetcher resolves the test names; `testRule` admits 127.0.0.1 on top of the default rule. */
async function harness(opts: {
  testRule: boolean;
  fetch?: Partial<NodeUrlFetcherOptions>;
}): Promise<Harness> {
  const fetcher = fx.fetcher(opts);
  const h = await makeHarness({ urlFetcher: fetcher, limits: { maxUploadBytes: MAX_UPLOAD } });
  fx.open.push(h);
  return h;
}

const at = (path: string, host = "images.example.test") =>
  `http://${host}:${fx.server.port}${path}`;

/** Nothing of a refused request was kept: no record, no blob, no job, no point. */
async function expectNothingStored(h: Harness): Promise<void> {
  expect(await h.catalog.list("default")).toEqual([]);
  expect(h.events).toEqual([]);
  expect(h.jobs.size).toBe(0);
  expect(await h.vectors.count("default")).toBe(0);
}

describe("POST /v1/images {url}: fetching an allowed URL", () => {
  it("fetches, stores and indexes the image like an upload (id = SHA-256 of the bytes)", async () => {
    const h = await harness({ testRule: true });
    const res = await postJson(h, "/v1/images?wait=true", { url: at("/cat.png") });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      id: string;
      status: string;
      width: number;
      height: number;
      bytes: number;
    };
    expect(body).toMatchObject({
      id: sha256(fx.png),
      status: "indexed",
      width: 48,
      height: 32,
      bytes: fx.png.length,
    });
    const file = await h.app.request(`/v1/images/${body.id}/file`);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(fx.png);
  });

  it("takes the id from the body or from ?id=, and refuses two different ones", async () => {
    const h = await harness({ testRule: true });
    expect(
      await (await postJson(h, "/v1/images", { url: at("/cat.png"), id: "cat-01.png" })).json(),
    ).toEqual({ id: "cat-01.png", status: "queued" });
    expect(
      await (await postJson(h, "/v1/images?id=cat-02.png", { url: at("/cat.png") })).json(),
    ).toEqual({ id: "cat-02.png", status: "queued" });
    await expectError(
      await postJson(h, "/v1/images?id=a.png", { url: at("/cat.png"), id: "b.png" }),
      400,
      "invalid_request",
    );
  });

  it("follows up to 3 redirects (301, 307, 308), then refuses a fourth", async () => {
    const h = await harness({ testRule: true });
    expect((await postJson(h, "/v1/images", { url: at("/hop/1") })).status).toBe(202);
    const err = await expectError(
      await postJson(h, "/v1/images", { url: at("/loop") }),
      422,
      "url_fetch_failed",
    );
    expect(err.message).toMatch(/more than 3 redirects/);
    expect(fx.server.hits.filter((p) => p === "/loop")).toHaveLength(4);
  });

  it("sniffs the format from the bytes, whatever Content-Type the server claims", async () => {
    const h = await harness({ testRule: true });
    expect((await postJson(h, "/v1/images", { url: at("/cat.bin") })).status).toBe(202);
    await expectError(
      await postJson(h, "/v1/images", { url: at("/text") }),
      415,
      "unsupported_media_type",
    );
  });
});

describe("POST /v1/images {url}: the default policy refuses the same server", () => {
  it("by its real address, in every spelling", async () => {
    const h = await harness({ testRule: false });
    const before = fx.server.hits.length;
    for (const host of [
      "127.0.0.1",
      "127.1",
      "2130706433",
      "0177.0.0.1",
      "0x7f.0.0.1",
      "0x7f000001",
      "[::ffff:127.0.0.1]",
    ]) {
      const err = await expectError(
        await postJson(h, "/v1/images", { url: at("/cat.png", host) }),
        400,
        "url_not_allowed",
      );
      expect(err.message).toMatch(/private, loopback, link-local or reserved/);
    }
    expect(fx.server.hits.length).toBe(before);
    await expectNothingStored(h);
  });

  it("by a name that resolves to it, with nothing revealed beyond 'resolves to a private address'", async () => {
    const h = await harness({ testRule: false });
    for (const host of [
      "images.example.test",
      "rebind.example.test",
      "internal.example.test",
      "v6-loopback.example.test",
    ]) {
      const before = fx.server.hits.length;
      const err = await expectError(
        await postJson(h, "/v1/images", { url: at("/cat.png", host) }),
        400,
        "url_not_allowed",
      );
      expect(err.message).toBe(
        "The image URL is not allowed: its host name resolves to a private or reserved address",
      );
      expect(fx.server.hits.length, host).toBe(before);
    }
    await expectNothingStored(h);
  });

  it("refuses a redirect to a private target, each hop re-checked", async () => {
    const h = await harness({ testRule: true });
    for (const path of ["/to-metadata", "/to-loopback-v6", "/to-private-name"]) {
      const err = await expectError(
        await postJson(h, "/v1/images", { url: at(path) }),
        400,
        "url_not_allowed",
      );
      expect(err.message, path).toMatch(/private/);
    }
    const file = await expectError(
      await postJson(h, "/v1/images", { url: at("/to-file") }),
      400,
      "url_not_allowed",
    );
    expect(file.message).toMatch(/only http and https/);
    await expectNothingStored(h);
  });

  it("refuses ports off the allowlist, credentials, other schemes and unknown names", async () => {
    const h = await harness({ testRule: true, fetch: { allowedPorts: [80, 443] } });
    expect(
      (
        await expectError(
          await postJson(h, "/v1/images", { url: at("/cat.png") }),
          400,
          "url_not_allowed",
        )
      ).message,
    ).toMatch(`port ${fx.server.port} is not allowed`);
    const creds = `http://user:pw@images.example.test:${fx.server.port}/cat.png`;
    expect(
      (await expectError(await postJson(h, "/v1/images", { url: creds }), 400, "url_not_allowed"))
        .message,
    ).toMatch(/credentials/);
    await expectError(
      await postJson(h, "/v1/images", { url: "ftp://images.example.test/cat.png" }),
      400,
      "url_not_allowed",
    );
    const unknown = await expectError(
      await postJson(h, "/v1/images", { url: "http://nowhere.example.test/cat.png" }),
      422,
      "url_fetch_failed",
    );
    expect(unknown.message).toMatch(/does not resolve/);
    await expectNothingStored(h);
  });
});

describe("POST /v1/images {url}: limits while fetching", () => {
  it("a server that never answers → 504 at the deadline, nothing stored", async () => {
    const h = await harness({ testRule: true, fetch: { timeoutMs: 500 } });
    const t0 = Date.now();
    const err = await expectError(
      await postJson(h, "/v1/images", { url: at("/hang") }),
      504,
      "url_fetch_timeout",
    );
    expect(err.message).toMatch(/within 500 ms/);
    // Behaviour, not speed: it settles long before anything could be called hanging.
    expect(Date.now() - t0).toBeLessThan(10_000);
    await expectNothingStored(h);
  });

  it("a body that trickles past the deadline → 504 (the deadline covers the body too)", async () => {
    const h = await harness({ testRule: true, fetch: { timeoutMs: 700 } });
    await expectError(
      await postJson(h, "/v1/images", { url: at("/trickle") }),
      504,
      "url_fetch_timeout",
    );
    await expectNothingStored(h);
  });

  it("an endless chunked body → 413 once the cap is passed, and the connection is dropped", async () => {
    const h = await harness({ testRule: true, fetch: { timeoutMs: 10_000 } });
    const err = await expectError(
      await postJson(h, "/v1/images", { url: at("/endless") }),
      413,
      "payload_too_large",
    );
    expect(err.message).toMatch(`exceeds ${MAX_UPLOAD} bytes`);
    await expect.poll(() => fx.server.abandoned.has("/endless")).toBe(true);
    await expectNothingStored(h);
  });

  it("a Content-Length over the cap → 413 before the body is read", async () => {
    const h = await harness({ testRule: true });
    await expectError(
      await postJson(h, "/v1/images", { url: at("/huge-declared") }),
      413,
      "payload_too_large",
    );
    await expectNothingStored(h);
  });

  it("upstream errors and empty bodies → 422 url_fetch_failed", async () => {
    const h = await harness({ testRule: true });
    expect(
      (
        await expectError(
          await postJson(h, "/v1/images", { url: at("/missing.png") }),
          422,
          "url_fetch_failed",
        )
      ).message,
    ).toMatch(/HTTP 404/);
    expect(
      (
        await expectError(
          await postJson(h, "/v1/images", { url: at("/no-location") }),
          422,
          "url_fetch_failed",
        )
      ).message,
    ).toMatch(/without a Location/);
    expect(
      (
        await expectError(
          await postJson(h, "/v1/images", { url: at("/empty") }),
          422,
          "url_fetch_failed",
        )
      ).message,
    ).toMatch(/empty body/);
    await expectNothingStored(h);
  });
});

describe("POST /v1/images {url}: the request itself", () => {
  it("validates the JSON body: url required, no unknown fields, malformed JSON, size", async () => {
    const h = await harness({ testRule: true });
    expect(
      (await expectError(await postJson(h, "/v1/images", {}), 400, "invalid_request")).message,
    ).toMatch(/^json\.url/);
    expect(
      (
        await expectError(
          await postJson(h, "/v1/images", { url: at("/cat.png"), extra: 1 }),
          400,
          "invalid_request",
        )
      ).message,
    ).toMatch(/extra/);
    expect(
      (
        await expectError(
          await postJson(h, "/v1/images", { url: "not a url" }),
          400,
          "invalid_request",
        )
      ).message,
    ).toMatch(/not a valid absolute URL/);
    const malformed = await h.app.request("/v1/images", {
      method: "POST",
      body: "{",
      headers: { "content-type": "application/json" },
    });
    await expectError(malformed, 400, "invalid_request");
    await expectError(
      await postJson(h, "/v1/images", { url: `https://example.com/${"a".repeat(70_000)}` }),
      413,
      "payload_too_large",
    );
    await expectNothingStored(h);
  });

  it("answers 501 where no fetcher is configured (URL_FETCH_ENABLED=false)", async () => {
    const h = await makeHarness();
    fx.open.push(h);
    const err = await expectError(
      await postJson(h, "/v1/images", { url: "https://example.com/a.png" }),
      501,
      "not_implemented",
    );
    expect(err.message).toMatch(/not enabled/);
  });

  it("the local server's environment: on by default, ports 80/443, 3 redirects; bad values refused", () => {
    const env = parseEnv({});
    expect([
      env.URL_FETCH_ENABLED,
      env.URL_FETCH_ALLOWED_PORTS,
      env.URL_FETCH_MAX_REDIRECTS,
      env.URL_FETCH_TIMEOUT_MS,
    ]).toEqual([true, [80, 443], 3, 15_000]);
    expect(
      parseEnv({ URL_FETCH_ENABLED: "false", URL_FETCH_ALLOWED_PORTS: "443, 8443" }),
    ).toMatchObject({ URL_FETCH_ENABLED: false, URL_FETCH_ALLOWED_PORTS: [443, 8443] });
    expect(() => parseEnv({ URL_FETCH_ALLOWED_PORTS: "80,http" })).toThrow(
      /URL_FETCH_ALLOWED_PORTS/,
    );
    expect(() => parseEnv({ URL_FETCH_MAX_REDIRECTS: "50" })).toThrow(/URL_FETCH_MAX_REDIRECTS/);
  });
});
