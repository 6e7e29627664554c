/**
 * User metadata through the API (docs/search.md#metadata, #filters, #pagination): given at upload
 * (multipart, JSON), returned with records and results, changed by PATCH without re-embedding,
 * filtered on in search, similar search and listings; bad input is a 400 naming the key.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectError, makeHarness, pngBytes, postJson, type Harness } from "./harness.js";

let h: Harness;

function multipart(h: Harness, bytes: Uint8Array, fields: Record<string, string>, query = "") {
  const form = new FormData();
  form.set(
    "file",
    new File([bytes as Uint8Array<ArrayBuffer>], "red-dress.png", { type: "image/png" }),
  );
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return h.app.request(`/v1/images${query}`, { method: "POST", body: form });
}

function patch(h: Harness, id: string, body: unknown) {
  return h.app.request(`/v1/images/${id}`, {
    method: "PATCH",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
}

type Result = {
  regionId: string;
  imageId: string;
  imageName: string | null;
  metadata: Record<string, unknown>;
};
type SearchBody = { results: Result[]; nextOffset: number | null };

async function search(h: Harness, body: Record<string, unknown>): Promise<SearchBody> {
  const res = await postJson(h, "/v1/search", { query: "star", limit: 50, ...body });
  expect(res.status).toBe(200);
  return (await res.json()) as SearchBody;
}

const imagesOf = (b: SearchBody) => [...new Set(b.results.map((r) => r.imageId))].sort();

beforeEach(async () => {
  h = await makeHarness();
  const specs: [string, [number, number, number], Record<string, unknown>][] = [
    ["a", [1, 1, 1], { cat: "dress", price: 20, tags: ["red"] }],
    ["b", [2, 2, 2], { cat: "shoe", price: 80, tags: ["red", "leather"] }],
    ["c", [3, 3, 3], { cat: "dress", price: 120 }],
  ];
  for (const [id, rgb, metadata] of specs) {
    const bytes = await pngBytes(40, 20, rgb);
    h.extractor.setLabels(bytes, [`red star ${id}`, `blue star ${id}`]);
    const res = await multipart(
      h,
      bytes,
      { metadata: JSON.stringify(metadata) },
      `?id=${id}&wait=true`,
    );
    expect(res.status).toBe(201);
  }
});
afterEach(() => h.close());

describe("metadata at upload", () => {
  it("multipart: metadata and the file name come back on the record and in every result", async () => {
    const record = (await (await h.app.request("/v1/images/a")).json()) as Record<string, unknown>;
    expect(record).toMatchObject({
      name: "red-dress.png",
      metadata: { cat: "dress", price: 20, tags: ["red"] },
    });
    const body = await search(h, {});
    expect(body.results).toHaveLength(6);
    for (const r of body.results) {
      expect(r.imageName).toBe("red-dress.png");
      expect(r.metadata.cat).toBe(r.imageId === "b" ? "shoe" : "dress");
    }
  });

  it("a name field beats the file name; bad metadata is a 400 naming the key and stores nothing", async () => {
    const bytes = await pngBytes(40, 20, [9, 9, 9]);
    const ok = await multipart(h, bytes, { name: "Summer look", metadata: "{}" }, "?id=n1");
    expect(ok.status).toBe(202);
    expect(((await (await h.app.request("/v1/images/n1")).json()) as { name: string }).name).toBe(
      "Summer look",
    );
    const cases: [string, string][] = [
      [JSON.stringify({ "bad key": 1 }), "metadata"],
      [JSON.stringify({ nested: { a: 1 } }), "metadata.nested"],
      [JSON.stringify({ list: [1, 2] }), "metadata.list"],
      [JSON.stringify({ big: "x".repeat(2000) }), "metadata.big"],
      [
        JSON.stringify(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]))),
        "metadata",
      ],
      ["not json", "metadata"],
    ];
    for (const [metadata, named] of cases) {
      const res = await multipart(h, await pngBytes(40, 20, [8, 8, 8]), { metadata }, "?id=bad");
      const err = await expectError(res, 400, "invalid_request");
      expect(err.message).toContain(named);
    }
    expect((await h.app.request("/v1/images/bad")).status).toBe(404);
  });

  it("JSON {url} uploads take name and metadata in the body", async () => {
    const bytes = await pngBytes(40, 20, [7, 7, 7]);
    const web = await makeHarness({ urlFetcher: { fetchBytes: async () => bytes } });
    try {
      const bad = await postJson(web, "/v1/images", {
        url: "https://x.test/a.png",
        metadata: { "x y": 1 },
      });
      expect((await expectError(bad, 400, "invalid_request")).message).toContain("json.metadata");
      const res = await postJson(web, "/v1/images?wait=true", {
        url: "https://x.test/a.png",
        id: "u1",
        name: "From the web",
        metadata: { source: "web" },
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ name: "From the web", metadata: { source: "web" } });
    } finally {
      await web.close();
    }
  });
});

describe("filters", () => {
  it("search: match, range, must_not, and results of other images never leak in", async () => {
    const dress = { must: [{ key: "cat", match: { value: "dress" } }] };
    expect(imagesOf(await search(h, { filter: dress }))).toEqual(["a", "c"]);
    const cheap = {
      must: [{ key: "price", range: { lt: 100 } }],
      must_not: [{ key: "tags", match: { value: "leather" } }],
    };
    expect(imagesOf(await search(h, { filter: cheap }))).toEqual(["a"]);
    const none = { must: [{ key: "cat", match: { value: "hat" } }] };
    expect((await search(h, { filter: none })).results).toEqual([]);
  });

  it("bad filters are 400s naming the path", async () => {
    const cases: [unknown, string][] = [
      [{ must: [{ key: "tenant", match: { value: "x" } }], extra: 1 }, "filter.extra"],
      [{ must: [{ key: "a.b", match: { value: "x" } }] }, "filter.must.0.key"],
      [{ must: [{ key: "p", match: { value: 1.5 } }] }, "filter.must.0.match.value"],
      [{ must: [{ key: "p", range: { gte: "soon" } }] }, "filter.must.0.range"],
      [{ should: [] }, "filter.should"],
      [{ must: [{ must: [{ must: [{ must: [{ must: [] }] }] }] }] }, "nested at most"],
      [
        { must: Array.from({ length: 65 }, () => ({ key: "a", match: { value: 1 } })) },
        "at most 64",
      ],
    ];
    for (const [filter, named] of cases) {
      const err = await expectError(
        await postJson(h, "/v1/search", { query: "star", filter }),
        400,
      );
      expect(err.message).toContain(named);
    }
  });

  it("similar search takes a filter and leaves the region itself out", async () => {
    const [first] = (await search(h, { query: "red star a", limit: 1 })).results as unknown as {
      regionId: string;
    }[];
    const res = await postJson(h, "/v1/search/similar", {
      regionId: first!.regionId,
      limit: 10,
      filter: { must: [{ key: "cat", match: { value: "shoe" } }] },
    });
    const body = (await res.json()) as SearchBody;
    expect(imagesOf(body)).toEqual(["b"]);
    expect(body.results.map((r) => r.regionId)).not.toContain(first!.regionId);
  });

  it("image listing: filter and cursor pages", async () => {
    const filter = encodeURIComponent(
      JSON.stringify({ must: [{ key: "cat", match: { value: "dress" } }] }),
    );
    const page1 = (await (await h.app.request(`/v1/images?filter=${filter}&limit=1`)).json()) as {
      images: { id: string }[];
      nextCursor: string | null;
    };
    expect(page1.images.map((i) => i.id)).toEqual(["a"]);
    expect(page1.nextCursor).toBe("a");
    const page2 = (await (
      await h.app.request(`/v1/images?filter=${filter}&limit=1&cursor=${page1.nextCursor}`)
    ).json()) as { images: { id: string }[]; nextCursor: string | null };
    expect(page2.images.map((i) => i.id)).toEqual(["c"]);
    expect(page2.nextCursor).toBeNull();
    await expectError(await h.app.request("/v1/images?filter=%7Bnope"), 400, "invalid_request");
  });
});

describe("pagination", () => {
  it("offset pages through the same ranking without repeats; nextOffset ends it", async () => {
    const all = await search(h, { limit: 6 });
    const p1 = await search(h, { limit: 4, offset: 0 });
    const p2 = await search(h, { limit: 4, offset: 4 });
    expect(p1.nextOffset).toBe(4);
    expect(p2.nextOffset).toBeNull();
    expect([...p1.results, ...p2.results]).toEqual(all.results);
    await expectError(await postJson(h, "/v1/search", { query: "x", offset: 1001 }), 400);
    const get = (await (
      await h.app.request("/v1/search?q=star&limit=2&offset=2")
    ).json()) as SearchBody;
    expect(get.results).toEqual(all.results.slice(2, 4));
  });
});

describe("PATCH /v1/images/{id}", () => {
  it("merges metadata, renames, and search sees it at once without re-embedding", async () => {
    const calls = h.extractor.calls;
    const res = await patch(h, "c", {
      name: "Gala gown",
      metadata: { cat: "gown", price: null, tags: ["silk"] },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: "Gala gown",
      metadata: { cat: "gown", tags: ["silk"] },
    });
    expect(h.extractor.calls).toBe(calls);
    const gown = await search(h, { filter: { must: [{ key: "cat", match: { value: "gown" } }] } });
    expect(imagesOf(gown)).toEqual(["c"]);
    expect(gown.results.every((r) => r.imageName === "Gala gown" && !("price" in r.metadata))).toBe(
      true,
    );
    const dress = await search(h, {
      filter: { must: [{ key: "cat", match: { value: "dress" } }] },
    });
    expect(imagesOf(dress)).toEqual(["a"]);
    const unnamed = await patch(h, "c", { name: null });
    expect(((await unnamed.json()) as { name: unknown }).name).toBeNull();
  });

  it("refuses bad patches by key, unknown images, and a merge over the limits", async () => {
    expect(
      (await expectError(await patch(h, "a", { metadata: { "no-dash": 1 } }), 400)).message,
    ).toContain("metadata");
    await expectError(await patch(h, "a", { tenant: "x" }), 400);
    await expectError(await patch(h, "zzz", { metadata: {} }), 404, "not_found");
    const many = Object.fromEntries(Array.from({ length: 62 }, (_, i) => [`k${i}`, i]));
    expect((await patch(h, "a", { metadata: many })).status).toBe(400); // 3 + 62 keys > 64
    expect(
      ((await (await h.app.request("/v1/images/a")).json()) as { metadata: object }).metadata,
    ).toEqual({
      cat: "dress",
      price: 20,
      tags: ["red"],
    });
  });

  it("tenants cannot patch or filter each other's images", async () => {
    const other = await makeHarness({ apiKeys: { k1: "t1", k2: "t2" } });
    try {
      const bytes = await pngBytes(40, 20, [5, 5, 5]);
      other.extractor.setLabels(bytes, ["star"]);
      const form = new FormData();
      form.set(
        "file",
        new File([bytes as Uint8Array<ArrayBuffer>], "x.png", { type: "image/png" }),
      );
      form.set("metadata", JSON.stringify({ cat: "dress" }));
      await other.app.request("/v1/images?id=x&wait=true", {
        method: "POST",
        body: form,
        headers: { authorization: "Bearer k1" },
      });
      const res = await other.app.request("/v1/images/x", {
        method: "PATCH",
        body: JSON.stringify({ metadata: { cat: "stolen" } }),
        headers: { "content-type": "application/json", authorization: "Bearer k2" },
      });
      await expectError(res, 404, "not_found");
      const found = await postJson(
        other,
        "/v1/search",
        { query: "star", filter: { must: [{ key: "cat", match: { value: "dress" } }] } },
        { authorization: "Bearer k2" },
      );
      expect(((await found.json()) as SearchBody).results).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe("GET /v1/metadata/fields", () => {
  it("lists the declared keys in order; none declared: an empty list", async () => {
    expect(await (await h.app.request("/v1/metadata/fields")).json()).toEqual({ fields: [] });
    const declared = await makeHarness({
      metadataFields: [
        { key: "cat", type: "keyword" },
        { key: "price", type: "float" },
      ],
    });
    try {
      expect(await (await declared.app.request("/v1/metadata/fields")).json()).toEqual({
        fields: [
          { key: "cat", type: "keyword" },
          { key: "price", type: "float" },
        ],
      });
    } finally {
      await declared.close();
    }
  });
});
