import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectError, makeHarness, pngBytes, postJson, upload, type Harness } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  const a = await pngBytes(40, 20, [1, 1, 1]);
  const b = await pngBytes(40, 20, [2, 2, 2]);
  h.extractor.setLabels(a, ["red star", "blue square"]);
  h.extractor.setLabels(b, ["green circle", "red star striped", "tiny dot"]);
  await upload(h, a, { query: "?id=img-a&wait=true" });
  await upload(h, b, { query: "?id=img-b&wait=true" });
});
afterEach(() => h.close());

type Result = {
  regionId: string;
  imageId: string;
  score: number;
  bbox: number[];
  area: number;
  mask: { size: number[]; counts: string };
};

describe("GET /v1/search", () => {
  it("finds the region by its label, best first, with box and mask; never whole-image points", async () => {
    const res = await h.app.request("/v1/search?q=blue%20square&limit=3");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Result[]; tookMs: number };
    expect(body.results).toHaveLength(3);
    expect(body.results[0]).toMatchObject({
      imageId: "img-a",
      bbox: [20, 0, 20, 20],
      area: 400,
      mask: { size: [20, 40] },
    });
    expect(body.results[0]!.score).toBeCloseTo(1, 5);
    const scores = body.results.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    expect(typeof body.tookMs).toBe("number");
    const all = (await (await h.app.request("/v1/search?q=red&limit=100")).json()) as {
      results: Result[];
    };
    expect(all.results).toHaveLength(5); // 5 regions, 2 whole-image points excluded
  });

  it("default limit is 10", async () => {
    await upload(h, await pngBytes(60, 10, [3, 3, 3]), { query: "?id=many&wait=true" });
    const many = await pngBytes(120, 10, [4, 4, 4]);
    h.extractor.setLabels(
      many,
      Array.from({ length: 12 }, (_, i) => `thing ${i}`),
    );
    await upload(h, many, { query: "?wait=true" });
    const body = (await (await h.app.request("/v1/search?q=thing")).json()) as {
      results: Result[];
    };
    expect(body.results).toHaveLength(10);
  });

  it("empty or whitespace query → 400", async () => {
    await expectError(await h.app.request("/v1/search?q="), 400, "invalid_request");
    const err = await expectError(await h.app.request("/v1/search?q=%20%20%20"), 400);
    expect(err.message).toMatch(/^query\.q: /);
    await expectError(await h.app.request("/v1/search"), 400);
  });

  it("limit out of range → 400", async () => {
    for (const limit of ["0", "101", "-1", "abc", "2.5"]) {
      const err = await expectError(await h.app.request(`/v1/search?q=star&limit=${limit}`), 400);
      expect(err.message).toMatch(/limit/);
    }
  });

  it("query over 500 characters → 400", async () => {
    await expectError(await h.app.request(`/v1/search?q=${"a".repeat(501)}`), 400);
    expect((await h.app.request(`/v1/search?q=${"a".repeat(500)}`)).status).toBe(200);
  });
});

describe("POST /v1/search", () => {
  it("filters by imageIds and minArea and groups by image", async () => {
    const only = (await (
      await postJson(h, "/v1/search", { query: "red star", limit: 10, imageIds: ["img-b"] })
    ).json()) as { results: Result[] };
    expect(only.results.every((r) => r.imageId === "img-b")).toBe(true);
    expect(only.results).toHaveLength(3);
    const big = (await (
      await postJson(h, "/v1/search", { query: "red star", limit: 10, minArea: 300 })
    ).json()) as { results: Result[] };
    expect(big.results.map((r) => r.area).every((a) => a >= 300)).toBe(true);
    expect(big.results).toHaveLength(2);
    const grouped = (await (
      await postJson(h, "/v1/search", { query: "red star", limit: 10, groupByImage: true })
    ).json()) as { results: Result[] };
    expect(grouped.results.map((r) => r.imageId).sort()).toEqual(["img-a", "img-b"]);
  });

  it("minScore leaves out weaker results, fewer than the limit or none", async () => {
    const all = (await (
      await postJson(h, "/v1/search", { query: "red star", limit: 10 })
    ).json()) as { results: Result[] };
    const scores = all.results.map((r) => r.score);
    const cut = (scores[0]! + scores.at(-1)!) / 2;
    const strong = (await (
      await postJson(h, "/v1/search", { query: "red star", limit: 10, minScore: cut })
    ).json()) as { results: Result[] };
    expect(strong.results.length).toBeGreaterThan(0);
    expect(strong.results.length).toBeLessThan(all.results.length);
    expect(strong.results).toEqual(all.results.filter((r) => r.score >= cut));
    const none = (await (
      await postJson(h, "/v1/search", { query: "red star", limit: 10, minScore: 1 })
    ).json()) as { results: Result[] };
    expect(none.results.filter((r) => r.score < 1)).toEqual([]);
    await expectError(await postJson(h, "/v1/search", { query: "x", minScore: 1.5 }), 400);
  });

  it("validation: empty query, bad limit, unknown field, too many imageIds, bad JSON → 400", async () => {
    await expectError(await postJson(h, "/v1/search", { query: "  " }), 400);
    await expectError(await postJson(h, "/v1/search", { query: "x", limit: 101 }), 400);
    const err = await expectError(
      await postJson(h, "/v1/search", { query: "x", imageID: ["a"] }),
      400,
    );
    expect(err.message).toMatch(/imageID/);
    await expectError(
      await postJson(h, "/v1/search", {
        query: "x",
        imageIds: Array.from({ length: 101 }, (_, i) => `i${i}`),
      }),
      400,
    );
    await expectError(await postJson(h, "/v1/search", { query: "x", minArea: -1 }), 400);
    await expectError(
      await h.app.request("/v1/search", {
        method: "POST",
        body: "{nope",
        headers: { "content-type": "application/json" },
      }),
      400,
    );
  });

  it("non-JSON body → 415", async () => {
    await expectError(
      await h.app.request("/v1/search", {
        method: "POST",
        body: "query=x",
        headers: { "content-type": "text/plain" },
      }),
      415,
    );
  });
});

describe("POST /v1/search/similar", () => {
  it("uses the stored vector and excludes the region itself", async () => {
    const hits = (await (await h.app.request("/v1/search?q=red%20star&limit=1")).json()) as {
      results: Result[];
    };
    const source = hits.results[0]!;
    const calls = h.text.calls;
    const res = await postJson(h, "/v1/search/similar", { regionId: source.regionId, limit: 2 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Result[] };
    expect(h.text.calls).toBe(calls); // no text model call
    expect(body.results).toHaveLength(2);
    expect(body.results.map((r) => r.regionId)).not.toContain(source.regionId);
    expect(body.results[0]!.imageId).toBe("img-b"); // "red star striped" is the nearest other region
  });

  it("unknown region → 404; missing regionId / bad limit → 400", async () => {
    await expectError(
      await postJson(h, "/v1/search/similar", { regionId: "00000000-0000-5000-8000-000000000000" }),
      404,
      "not_found",
    );
    await expectError(await postJson(h, "/v1/search/similar", { regionId: "not-a-uuid" }), 404);
    await expectError(await postJson(h, "/v1/search/similar", {}), 400);
    await expectError(await postJson(h, "/v1/search/similar", { regionId: "x", limit: 0 }), 400);
  });

  it("a whole-image point id is not a region → 404", async () => {
    const points = await h.vectors.listImage("default", "img-a");
    const whole = points.find((p) => p.payload.kind === "image")!;
    await expectError(await postJson(h, "/v1/search/similar", { regionId: whole.id }), 404);
  });
});
