import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  expectError,
  jpegBytes,
  makeHarness,
  pngBytes,
  pngHeaderOnly,
  upload,
  type Harness,
} from "./harness.js";
import { sha256 } from "../support/fakes.js";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ limits: { maxUploadBytes: 64 * 1024 } });
});
afterEach(() => h.close());

describe("POST /v1/images", () => {
  it("accepts a raw PNG: 202 {id, status}, id = SHA-256 of the bytes, then indexes it", async () => {
    const bytes = await pngBytes();
    const res = await upload(h, bytes);
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body).toEqual({ id: sha256(bytes), status: "queued" });
    await h.jobs.idle();
    const rec = await (await h.app.request(`/v1/images/${body.id}`)).json();
    expect(rec).toMatchObject({
      id: body.id,
      status: "indexed",
      width: 40,
      height: 30,
      regionCount: 2,
      pack: "fake@1",
    });
  });

  it("accepts multipart field `file` and a JPEG, with ?id=", async () => {
    const form = new FormData();
    form.set(
      "file",
      new Blob([(await jpegBytes()) as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
      "x.jpg",
    );
    const res = await h.app.request("/v1/images?id=my-photo.jpg", { method: "POST", body: form });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: "my-photo.jpg", status: "queued" });
    expect((await h.blobs.get("default", "my-photo.jpg"))?.contentType).toBe("image/jpeg");
  });

  it("multipart without `file` → 400", async () => {
    const form = new FormData();
    form.set("other", "x");
    await expectError(
      await h.app.request("/v1/images", { method: "POST", body: form }),
      400,
      "invalid_request",
    );
  });

  it("?wait=true answers 201 with the indexed record", async () => {
    const res = await upload(h, await pngBytes(), { query: "?wait=true&id=w1" });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      id: "w1",
      status: "indexed",
      regionCount: 2,
      width: 40,
      height: 30,
    });
  });

  it("?wait=true on an image that fails answers with the failure as an error status", async () => {
    const bytes = await pngBytes(20, 20, [1, 2, 3]);
    h.extractor.invalid.add(sha256(bytes));
    const err = await expectError(
      await upload(h, bytes, { query: "?wait=true" }),
      422,
      "invalid_image",
    );
    expect(err.message).toMatch(/corrupt/);
  });

  it("rejects a bad ?id= with 400 naming the field", async () => {
    const err = await expectError(
      await upload(h, await pngBytes(), { query: "?id=a/b" }),
      400,
      "invalid_request",
    );
    expect(err.message).toMatch(/^query\.id: /);
    await expectError(await upload(h, await pngBytes(), { query: "?id=.." }), 400);
    await expectError(await upload(h, await pngBytes(), { query: `?id=${"x".repeat(129)}` }), 400);
  });

  it("non-image bytes → 415 and nothing stored", async () => {
    await expectError(
      await upload(h, new TextEncoder().encode("hello, not an image")),
      415,
      "unsupported_media_type",
    );
    expect(await h.catalog.list("default")).toEqual([]);
  });

  it("GIF → 415 (recognised, not supported)", async () => {
    const gif = new TextEncoder().encode("GIF89a\x01\x00\x01\x00\x00\x00\x00;");
    const err = await expectError(
      await upload(h, gif, { type: "image/gif" }),
      415,
      "unsupported_media_type",
    );
    expect(err.message).toMatch(/Content-Type/);
    const err2 = await expectError(await upload(h, gif, { type: "image/png" }), 415);
    expect(err2.message).toMatch(/GIF/);
  });

  it("wrong Content-Type (text/plain) → 415", async () => {
    await expectError(await upload(h, await pngBytes(), { type: "text/plain" }), 415);
  });

  it("empty body → 400", async () => {
    await expectError(await upload(h, new Uint8Array(0)), 400);
  });

  it("oversize body with Content-Length → 413", async () => {
    const big = new Uint8Array(64 * 1024 + 1);
    big.set(await pngBytes());
    await expectError(
      await upload(h, big, { headers: { "content-length": String(big.length) } }),
      413,
      "payload_too_large",
    );
  });

  it("oversize chunked body (no Content-Length) → 413", async () => {
    const chunk = new Uint8Array(16 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await h.app.request("/v1/images", {
      method: "POST",
      body: stream,
      headers: { "content-type": "image/png" },
      duplex: "half",
    } as RequestInit);
    await expectError(res, 413, "payload_too_large");
    expect(sent).toBeLessThan(10); // stopped reading early
    expect(await h.catalog.list("default")).toEqual([]);
  });

  it("PNG declaring huge dimensions → 413 before anything is stored or decoded", async () => {
    const err = await expectError(
      await upload(h, pngHeaderOnly(50_000, 50_000), { query: "?id=huge" }),
      413,
      "image_too_large",
    );
    expect(err.message).toMatch(/50000×50000/);
    await expectError(
      await upload(h, pngHeaderOnly(12_000, 10), { query: "?id=wide" }),
      413,
      "image_too_large",
    );
    // Each side within limits, the area not (9000² = 81 MP > 40 MP).
    await expectError(
      await upload(h, pngHeaderOnly(9_000, 9_000), { query: "?id=area" }),
      413,
      "image_too_large",
    );
    expect(await h.catalog.get("default", "huge")).toBeNull();
    expect(await h.blobs.get("default", "huge")).toBeNull();
    expect(h.extractor.calls).toBe(0);
  });

  it("truncated PNG (signature only) → 422", async () => {
    await expectError(
      await upload(h, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])),
      422,
      "invalid_image",
    );
  });

  it("re-uploading the same bytes does not re-run the job", async () => {
    const bytes = await pngBytes();
    await upload(h, bytes, { query: "?wait=true" });
    const res = await upload(h, bytes);
    expect(await res.json()).toMatchObject({ status: "indexed" });
    await h.jobs.idle();
    expect(h.extractor.calls).toBe(1);
  });
});

describe("GET/DELETE /v1/images/{id}", () => {
  it("GET unknown → 404; bad id → 400", async () => {
    await expectError(await h.app.request("/v1/images/nope"), 404, "not_found");
    await expectError(await h.app.request("/v1/images/..."), 400, "invalid_request");
  });

  it("GET /file returns the stored bytes and content type; unknown → 404", async () => {
    const bytes = await jpegBytes();
    await upload(h, bytes, { query: "?id=f1", type: "image/jpeg" });
    const res = await h.app.request("/v1/images/f1/file");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    await expectError(await h.app.request("/v1/images/f2/file"), 404);
  });

  it("GET /regions lists regions in order with masks; unknown → 404", async () => {
    const bytes = await pngBytes(30, 10);
    h.extractor.setLabels(bytes, ["a", "b", "c"]);
    await upload(h, bytes, { query: "?id=r1&wait=true" });
    const body = await (await h.app.request("/v1/images/r1/regions")).json();
    expect(body.status).toBe("indexed");
    expect(body.regions.map((r: { regionIndex: number }) => r.regionIndex)).toEqual([0, 1, 2]);
    expect(body.regions[1]).toMatchObject({
      imageId: "r1",
      bbox: [10, 0, 10, 10],
      area: 100,
      mask: { size: [10, 30] },
    });
    await expectError(await h.app.request("/v1/images/zz/regions"), 404);
  });

  it("DELETE removes points, blob and record; then 404", async () => {
    await upload(h, await pngBytes(), { query: "?id=d1&wait=true" });
    expect(await h.vectors.count("default")).toBe(3);
    const res = await h.app.request("/v1/images/d1", { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await h.vectors.count("default")).toBe(0);
    expect(await h.blobs.get("default", "d1")).toBeNull();
    expect(await h.catalog.get("default", "d1")).toBeNull();
    await expectError(await h.app.request("/v1/images/d1"), 404);
    await expectError(await h.app.request("/v1/images/d1", { method: "DELETE" }), 404);
  });

  it("re-ingest under the same id replaces regions without duplicates", async () => {
    const a = await pngBytes(30, 10, [10, 10, 10]);
    const b = await pngBytes(30, 10, [20, 20, 20]);
    h.extractor.setLabels(a, ["one", "two", "three", "four"]);
    h.extractor.setLabels(b, ["five", "six"]);
    await upload(h, a, { query: "?id=same&wait=true" });
    expect(await h.vectors.count("default", { imageIds: ["same"] })).toBe(5);
    const res = await upload(h, b, { query: "?id=same&wait=true" });
    expect(await res.json()).toMatchObject({ regionCount: 2 });
    const points = await h.vectors.listImage("default", "same");
    expect(points.map((p) => p.payload.regionIndex)).toEqual([-1, 0, 1]);
    expect(new Set(points.map((p) => p.id)).size).toBe(3);
  });
});
