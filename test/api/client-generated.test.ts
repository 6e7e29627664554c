/**
 * The typed client (`region-search/client`): its generated half matches the document the API
 * serves now (regenerate with `npm run generate:client` when this fails), and the hand-written half
 * talks to the real app: bodies, parameters, API keys and the one error body.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiCallError, createRegionSearchClient, unwrap } from "region-search/client";
import { GENERATED_DIR, generatedFiles } from "../../src/node/client-gen.js";
import { makeHarness, pngBytes, type Harness } from "./harness.js";

describe("generated client files", () => {
  it("match the served OpenAPI document (else: npm run generate:client)", async () => {
    const fresh = await generatedFiles();
    for (const [name, text] of Object.entries(fresh)) {
      const committed = await readFile(path.join(GENERATED_DIR, name), "utf8");
      expect(
        committed === text,
        `src/generated/client/${name} is stale: run npm run generate:client`,
      ).toBe(true);
    }
  });
});

describe("createRegionSearchClient against the app", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await makeHarness({ apiKeys: { "key-a": "alpha" } });
  });
  afterEach(() => h.close());
  const client = (apiKey?: string) =>
    createRegionSearchClient({
      baseUrl: "http://api.test/",
      apiKey,
      fetch: async (request) => h.app.request(request),
    });

  it("uploads raw bytes with a query parameter, reads the record, searches with a typed body", async () => {
    const api = client("key-a");
    const bytes = await pngBytes(40, 20);
    h.extractor.setLabels(bytes, ["red star", "blue square"]);
    const created = await api.POST("/v1/images", {
      params: { query: { id: "img-a", wait: "true" } },
      body: bytes as unknown as string,
      bodySerializer: (b) => b,
      headers: { "content-type": "image/png" },
    });
    expect(created.response.status).toBe(201);
    const record = unwrap(await api.GET("/v1/images/{id}", { params: { path: { id: "img-a" } } }));
    expect(record).toMatchObject({ id: "img-a", status: "indexed", regionCount: 2 });
    const { results } = unwrap(
      await api.POST("/v1/search", { body: { query: "blue square", limit: 1 } }),
    );
    expect(results.map((r) => [r.imageId, r.bbox])).toEqual([["img-a", [20, 0, 20, 20]]]);
  });

  it("an error answer becomes ApiCallError with the body's code, message and request id", async () => {
    const noKey = await client().GET("/v1/images/{id}", { params: { path: { id: "x" } } });
    expect(() => unwrap(noKey)).toThrowError(ApiCallError);
    try {
      unwrap(await client("key-a").GET("/v1/images/{id}", { params: { path: { id: "nope" } } }));
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ status: 404, code: "not_found" });
      expect((err as ApiCallError).requestId).toBeTruthy();
      expect((err as Error).message).toMatch(/nope/);
    }
  });
});
