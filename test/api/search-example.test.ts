/**
 * Query by example (`POST /v1/search/similar {example}` and its multipart form) through the real
 * app, with a fake example embedder over the fake extractor's strips: a point selects the strip
 * under it, so "the region at this point" must come back as `query`, and its label's regions first.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rleArea, rleToBoxXywh } from "../../src/lib/masks/rle.js";
import { ApiError } from "../../src/lib/errors.js";
import type { EmbeddedExample, ExampleEmbedder, RegionPrompt } from "../../src/lib/services.js";
import { FakeExtractor } from "../support/fakes.js";
import { expectError, makeHarness, pngBytes, postJson, upload, type Harness } from "./harness.js";

/** The fake extractor's strip under the point (or the box's centre); 400 outside the image. */
class FakeExamples implements ExampleEmbedder {
  readonly pack = "fake@1";
  readonly prompts: RegionPrompt[] = [];
  constructor(private readonly strips: FakeExtractor) {}
  async embedExample(bytes: Uint8Array, prompt: RegionPrompt): Promise<EmbeddedExample> {
    this.prompts.push(prompt);
    const image = await this.strips.extract(bytes);
    const [x, y] =
      "point" in prompt ? prompt.point : [prompt.box[0] + prompt.box[2] / 2, prompt.box[1]];
    if (x >= image.width || y >= image.height) throw ApiError.invalid("point: outside (fake)");
    const r = image.regions.find((g) => x >= g.bbox[0] && x < g.bbox[0] + g.bbox[2])!;
    const { mask, bbox, area, predictedIou, vector } = r;
    return {
      width: image.width,
      height: image.height,
      mask,
      bbox,
      area,
      predictedIou,
      vector,
      timings: {},
    };
  }
}

type Result = { regionId: string; imageId: string; score: number };
type Body = {
  results: Result[];
  query: {
    imageId?: string;
    bbox: number[];
    area: number;
    mask: { size: number[]; counts: string };
  };
};

let h: Harness;
let examples: FakeExamples;
let a: Uint8Array;
let b: Uint8Array;
beforeEach(async () => {
  const extractor = new FakeExtractor();
  examples = new FakeExamples(extractor);
  h = await makeHarness({ examples });
  a = await pngBytes(40, 20, [1, 1, 1]);
  b = await pngBytes(40, 20, [2, 2, 2]);
  for (const fake of [h.extractor, extractor]) {
    fake.setLabels(a, ["red star", "blue square"]);
    fake.setLabels(b, ["green circle", "blue square"]);
  }
  await upload(h, a, { query: "?id=img-a&wait=true" });
  await upload(h, b, { query: "?id=img-b&wait=true" });
});
afterEach(() => h.close());

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

describe("POST /v1/search/similar with an example", () => {
  it("a stored image and a point: the region under the point is the query, its look-alikes come back", async () => {
    const res = await postJson(h, "/v1/search/similar", {
      example: { imageId: "img-a", point: [30, 5] },
      limit: 3,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Body;
    expect(body.query).toMatchObject({ imageId: "img-a", bbox: [20, 0, 20, 20], area: 400 });
    expect(rleArea(body.query.mask as never)).toBe(body.query.area);
    expect(rleToBoxXywh(body.query.mask as never)).toEqual(body.query.bbox);
    // "blue square" of both images score 1; the region itself is not left out (it is a match).
    expect(
      body.results
        .slice(0, 2)
        .map((r) => r.imageId)
        .sort(),
    ).toEqual(["img-a", "img-b"]);
    expect(body.results[0]!.score).toBeCloseTo(1, 5);
    expect(body.results[2]!.score).toBeLessThan(0.99);
  });

  it("bytes as base64 and as multipart give the same answer as the stored image", async () => {
    const stored = (await (
      await postJson(h, "/v1/search/similar", {
        example: { imageId: "img-b", box: [0, 0, 10, 10] },
      })
    ).json()) as Body;
    const sent = (await (
      await postJson(h, "/v1/search/similar", {
        example: { base64: base64(b), box: [0, 0, 10, 10] },
      })
    ).json()) as Body;
    const form = new FormData();
    form.set("image", new Blob([b as Uint8Array<ArrayBuffer>], { type: "image/png" }), "b.png");
    form.set("box", "0,0,10,10");
    form.set("limit", "10");
    const res = await h.app.request("/v1/search/similar", { method: "POST", body: form });
    expect(res.status).toBe(200);
    const multipart = (await res.json()) as Body;
    const ids = (x: Body) => x.results.map((r) => r.regionId);
    expect(ids(sent)).toEqual(ids(stored));
    expect(ids(multipart)).toEqual(ids(stored));
    expect(multipart.query.mask).toEqual(stored.query.mask);
    expect(sent.query.imageId).toBeUndefined();
    expect(examples.prompts.at(-1)).toEqual({ box: [0, 0, 10, 10] });
  });

  it("a URL goes through the URL fetcher; none configured → 501", async () => {
    await expectError(
      await postJson(h, "/v1/search/similar", {
        example: { url: "https://x.test/a.png", point: [1, 1] },
      }),
      501,
      "not_implemented",
    );
    const fetched: string[] = [];
    const withFetcher = await makeHarness({
      examples,
      urlFetcher: { fetchBytes: async (url) => (fetched.push(url), a) },
    });
    try {
      const res = await postJson(withFetcher, "/v1/search/similar", {
        example: { url: "https://x.test/a.png", point: [1, 1] },
      });
      expect(res.status).toBe(200);
      expect(fetched).toEqual(["https://x.test/a.png"]);
    } finally {
      await withFetcher.close();
    }
  });

  it("bad examples get one 4xx each, naming the field", async () => {
    const similar = (example: unknown) => postJson(h, "/v1/search/similar", { example });
    const cases: [unknown, number, RegExp][] = [
      [{ imageId: "img-a" }, 400, /point, box/],
      [{ imageId: "img-a", point: [1, 1], box: [0, 0, 1, 1] }, 400, /exactly one of point, box/],
      [{ point: [1, 1] }, 400, /imageId, url, base64/],
      [{ imageId: "img-a", base64: base64(a), point: [1, 1] }, 400, /imageId, url, base64/],
      [{ imageId: "img-a", point: [-1, 1] }, 400, /example\.point/],
      [{ imageId: "img-a", box: [0, 0, 0, 5] }, 400, /example\.box/],
      [{ base64: "not base64!", point: [1, 1] }, 400, /example\.base64/],
      [{ imageId: "img-a", point: [1, 1], extra: 1 }, 400, /extra/],
      [{ imageId: "img-a", point: [99, 1] }, 400, /outside/],
      [{ imageId: "nope", point: [1, 1] }, 404, /nope/],
      [{ base64: base64(new TextEncoder().encode("GIF89a....")), point: [1, 1] }, 415, /./],
    ];
    for (const [example, status, message] of cases) {
      const err = await expectError(await similar(example), status);
      expect(err.message, JSON.stringify(example)).toMatch(message);
    }
    const both = await postJson(h, "/v1/search/similar", {
      regionId: "00000000-0000-5000-8000-000000000000",
      example: { imageId: "img-a", point: [1, 1] },
    });
    expect((await expectError(both, 400)).message).toMatch(/exactly one of regionId, example/);
  });

  it("multipart without an image file, or with unknown fields → 400", async () => {
    const form = new FormData();
    form.set("point", "1,1");
    await expectError(
      await h.app.request("/v1/search/similar", { method: "POST", body: form }),
      400,
    );
    form.set("image", new Blob([a as Uint8Array<ArrayBuffer>]), "a.png");
    form.set("colour", "red");
    const err = await expectError(
      await h.app.request("/v1/search/similar", { method: "POST", body: form }),
      400,
    );
    expect(err.message).toMatch(/colour/);
    form.delete("colour");
    form.set("point", "1,x");
    const bad = await expectError(
      await h.app.request("/v1/search/similar", { method: "POST", body: form }),
      400,
    );
    expect(bad.message).toMatch(/form\.example\.point/);
  });

  it("a base64 image may exceed the JSON cap, up to the upload cap as base64", async () => {
    const padded = { regionId: "x", pad: "p".repeat(70 * 1024) };
    const err = await expectError(await postJson(h, "/v1/search/similar", padded), 413);
    expect(err.message).toMatch(/JSON body exceeds/);
    const big = new Uint8Array(80 * 1024);
    big.set(a);
    const res = await postJson(h, "/v1/search/similar", {
      example: { base64: base64(big), point: [1, 1] },
    });
    expect(res.status).not.toBe(413);
  });

  it("without an example embedder (the Workers gateway) → 501 with a clear message", async () => {
    const bare = await makeHarness();
    try {
      const err = await expectError(
        await postJson(bare, "/v1/search/similar", {
          example: { imageId: "img-a", point: [1, 1] },
        }),
        501,
        "not_implemented",
      );
      expect(err.message).toMatch(/Query by example/);
    } finally {
      await bare.close();
    }
  });
});
