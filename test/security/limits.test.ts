/**
 * Limits (issue 8 item 6): every parameter of the public API that sizes work is capped, and a
 * request over a cap gets 400 (413 for bodies) whose message names the field and the cap — the cap
 * configured in src/lib/limits.ts (or overridden), not a number written into a route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/lib/limits.js";
import {
  expectError,
  makeHarness,
  pngBytes,
  pngHeaderOnly,
  postJson,
  upload,
  type Harness,
} from "../api/harness.js";

const CUSTOM = {
  maxSearchLimit: 7,
  maxQueryChars: 20,
  maxImageIds: 3,
  maxJsonBytes: 2000,
  maxUploadBytes: 5000,
  maxSide: 50,
  maxPixels: 1500,
};

describe.each([
  ["defaults", {}],
  ["overridden limits", CUSTOM],
] as const)("caps → 400/413 naming the cap (%s)", (_name, overrides) => {
  const lim = { ...DEFAULT_LIMITS, ...overrides };
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness({ limits: overrides });
  });
  afterAll(() => h.close());

  const capIn = async (res: Response, status: number, field: RegExp, cap: number) => {
    const err = await expectError(res, status);
    expect(err.message).toMatch(field);
    expect(err.message).toContain(String(cap));
  };

  it("`limit` on GET /v1/search, POST /v1/search and POST /v1/search/similar", async () => {
    const over = lim.maxSearchLimit + 1;
    await capIn(
      await h.app.request(`/v1/search?q=x&limit=${over}`),
      400,
      /query\.limit/,
      lim.maxSearchLimit,
    );
    await capIn(
      await postJson(h, "/v1/search", { query: "x", limit: over }),
      400,
      /limit/,
      lim.maxSearchLimit,
    );
    await capIn(
      await postJson(h, "/v1/search/similar", {
        regionId: "00000000-0000-5000-8000-000000000000",
        limit: over,
      }),
      400,
      /limit/,
      lim.maxSearchLimit,
    );
    expect((await h.app.request(`/v1/search?q=x&limit=${lim.maxSearchLimit}`)).status).toBe(200);
  });

  it("query length on GET and POST /v1/search", async () => {
    const long = "a".repeat(lim.maxQueryChars + 1);
    await capIn(await h.app.request(`/v1/search?q=${long}`), 400, /query\.q/, lim.maxQueryChars);
    await capIn(await postJson(h, "/v1/search", { query: long }), 400, /query/, lim.maxQueryChars);
    expect((await h.app.request(`/v1/search?q=${"a".repeat(lim.maxQueryChars)}`)).status).toBe(200);
  });

  it("`imageIds` filter size (the only batch parameter) on POST /v1/search", async () => {
    const ids = Array.from({ length: lim.maxImageIds + 1 }, (_, i) => `i${i}`);
    await capIn(
      await postJson(h, "/v1/search", { query: "x", imageIds: ids }),
      400,
      /imageIds/,
      lim.maxImageIds,
    );
    expect((await postJson(h, "/v1/search", { query: "x", imageIds: ids.slice(1) })).status).toBe(
      200,
    );
  });

  it("JSON bodies of the search routes → 413 naming the byte cap", async () => {
    const padded = { query: "x", imageIds: ["a"], pad: "p".repeat(lim.maxJsonBytes) };
    await capIn(await postJson(h, "/v1/search", padded), 413, /JSON body/, lim.maxJsonBytes);
    await capIn(
      await postJson(h, "/v1/search/similar", padded),
      413,
      /JSON body/,
      lim.maxJsonBytes,
    );
  });

  it("upload bytes → 413 and image sides / pixels → 413, naming the caps", async () => {
    const big = new Uint8Array(lim.maxUploadBytes + 1);
    big.set(await pngBytes());
    await capIn(await upload(h, big), 413, /Upload exceeds/, lim.maxUploadBytes);
    const side = lim.maxSide + 1;
    const err = await expectError(await upload(h, pngHeaderOnly(side, 1)), 413, "image_too_large");
    expect(err.message).toContain(String(lim.maxSide));
    expect(err.message).toContain(String(lim.maxPixels));
  });

  it("ids: ?id= over 128 characters and region ids over 64 → 400 naming the field", async () => {
    await capIn(
      await upload(h, await pngBytes(), { query: `?id=${"x".repeat(129)}` }),
      400,
      /query\.id/,
      128,
    );
    await expectError(await h.app.request(`/v1/regions/${"r".repeat(65)}`), 400);
    await capIn(
      await postJson(h, "/v1/search/similar", { regionId: "r".repeat(65) }),
      400,
      /regionId/,
      64,
    );
  });
});
