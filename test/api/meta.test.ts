import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { RequestLogEvent } from "../../src/lib/api/app.js";
import { apiKeyTenantResolver } from "../../src/lib/api/auth.js";
import { expectError, makeHarness, pngBytes, postJson, upload, type Harness } from "./harness.js";

let h: Harness;
afterEach(() => h.close());

describe("meta routes and cross-cutting behaviour", () => {
  it("GET /healthz", async () => {
    h = await makeHarness();
    const res = await h.app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", pack: "fake@1" });
  });

  it("GET /openapi.json documents every operation with the shared error schema", async () => {
    h = await makeHarness();
    const doc = (await (await h.app.request("/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }
        >
      >;
    };
    const ops = Object.entries(doc.paths).flatMap(([p, m]) =>
      Object.keys(m).map((verb) => `${verb.toUpperCase()} ${p}`),
    );
    expect(ops.sort()).toEqual([
      "DELETE /v1/images/{id}",
      "GET /healthz",
      "GET /v1/images",
      "GET /v1/images/{id}",
      "GET /v1/images/{id}/file",
      "GET /v1/images/{id}/regions",
      "GET /v1/metadata/fields",
      "GET /v1/regions/{id}",
      "GET /v1/regions/{id}/mask.png",
      "GET /v1/regions/{id}/preview.png",
      "GET /v1/search",
      "PATCH /v1/images/{id}",
      "POST /v1/images",
      "POST /v1/images/{id}/retry",
      "POST /v1/search",
      "POST /v1/search/similar",
    ]);
    for (const [p, methods] of Object.entries(doc.paths)) {
      if (p === "/healthz") continue;
      for (const op of Object.values(methods)) {
        const errors = Object.entries(op.responses).filter(([s]) => Number(s) >= 400);
        expect(errors.length).toBeGreaterThan(0);
        for (const [, r] of errors)
          expect(r.content?.["application/json"]?.schema.$ref).toBe("#/components/schemas/Error");
      }
    }
  });

  it("GET /docs serves the interactive reference", async () => {
    h = await makeHarness();
    const res = await h.app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/openapi\.json/);
  });

  it("unknown route → 404 error body; request id echoed or generated", async () => {
    h = await makeHarness();
    const res = await h.app.request("/nope", { headers: { "x-request-id": "req-123" } });
    const err = await expectError(res, 404, "not_found");
    expect(err.requestId).toBe("req-123");
    const gen = await h.app.request("/healthz", {
      headers: { "x-request-id": "bad id with spaces" },
    });
    expect(gen.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("unexpected errors → 500 without internals, logged with the original error", async () => {
    const logged: unknown[] = [];
    const events: RequestLogEvent[] = [];
    h = await makeHarness({
      logger: { request: (e) => events.push(e), error: (err) => logged.push(err) },
    });
    h.text.embedText = async () => {
      throw new Error("secret /internal/path exploded");
    };
    const err = await expectError(await h.app.request("/v1/search?q=x"), 500, "internal_error");
    expect(err.message).toBe("Internal server error");
    expect(String(logged[0])).toMatch(/secret/);
    expect(events.at(-1)).toMatchObject({
      status: 500,
      tenant: "default",
      errorCode: "internal_error",
      path: "/v1/search",
    });
  });

  it("a configured key may be its SHA-256 (sha256:<hex>): the key works, its hash presented as a key does not", async () => {
    const digest = createHash("sha256").update("rs_live_only-the-caller-knows-this").digest("hex");
    h = await makeHarness({
      apiKeys: { [`sha256:${digest}`]: "tenant-h", "plain-key": "tenant-p" },
    });
    const status = async (key: string) =>
      (await h.app.request("/v1/images", { headers: { authorization: `Bearer ${key}` } })).status;
    expect(await status("rs_live_only-the-caller-knows-this")).toBe(200);
    expect(await status("plain-key")).toBe(200);
    for (const wrong of [digest, `sha256:${digest}`, "rs_live_only-the-caller-knows-thiS", ""])
      expect(await status(wrong)).toBe(401);
    expect(() => apiKeyTenantResolver({ "sha256:abc": "t" })).toThrow(/sha256/);
  });

  it("with API keys: no/unknown key → 401; tenants are isolated (foreign ids are 404)", async () => {
    h = await makeHarness({ apiKeys: { "key-a": "tenant-a", "key-b": "tenant-b" } });
    const A = { authorization: "Bearer key-a" };
    const B = { "x-api-key": "key-b" };
    await expectError(await h.app.request("/v1/search?q=x"), 401, "unauthorized");
    await expectError(
      await h.app.request("/v1/search?q=x", { headers: { authorization: "Bearer key-c" } }),
      401,
    );
    expect((await h.app.request("/healthz")).status).toBe(200);

    const bytes = await pngBytes();
    const created = await upload(h, bytes, { query: "?id=shared-name&wait=true", headers: A });
    expect(created.status).toBe(201);
    const regions = (await (
      await h.app.request("/v1/images/shared-name/regions", { headers: A })
    ).json()) as { regions: { regionId: string }[] };
    const regionId = regions.regions[0]!.regionId;

    await expectError(await h.app.request("/v1/images/shared-name", { headers: B }), 404);
    await expectError(await h.app.request("/v1/images/shared-name/file", { headers: B }), 404);
    await expectError(await h.app.request("/v1/images/shared-name/regions", { headers: B }), 404);
    await expectError(
      await h.app.request("/v1/images/shared-name", { method: "DELETE", headers: B }),
      404,
    );
    await expectError(await h.app.request(`/v1/regions/${regionId}`, { headers: B }), 404);
    await expectError(await h.app.request(`/v1/regions/${regionId}/mask.png`, { headers: B }), 404);
    await expectError(
      await h.app.request(`/v1/regions/${regionId}/preview.png`, { headers: B }),
      404,
    );
    await expectError(await postJson(h, "/v1/search/similar", { regionId }, B), 404);
    const searchB = (await (
      await h.app.request("/v1/search?q=left%20thing", { headers: B })
    ).json()) as { results: unknown[] };
    expect(searchB.results).toEqual([]);
    const searchA = (await (
      await h.app.request("/v1/search?q=left%20thing", { headers: A })
    ).json()) as { results: unknown[] };
    expect(searchA.results).toHaveLength(2);

    // Tenant B may use the same image id independently.
    expect(
      (await upload(h, bytes, { query: "?id=shared-name&wait=true", headers: B })).status,
    ).toBe(201);
    expect(
      (await h.app.request("/v1/images/shared-name", { method: "DELETE", headers: B })).status,
    ).toBe(204);
    expect((await h.app.request("/v1/images/shared-name", { headers: A })).status).toBe(200);
    expect(await h.vectors.count("tenant-a")).toBe(3);
  });
});
