import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectError, makeHarness, pngBytes, upload, type Harness } from "./harness.js";

let h: Harness;
let regionId: string;
beforeEach(async () => {
  h = await makeHarness();
  const bytes = await pngBytes(40, 20, [250, 250, 250]);
  h.extractor.setLabels(bytes, ["left", "right"]);
  await upload(h, bytes, { query: "?id=img&wait=true" });
  const body = (await (await h.app.request("/v1/images/img/regions")).json()) as {
    regions: { regionId: string }[];
  };
  regionId = body.regions[1]!.regionId;
});
afterEach(() => h.close());

const UNKNOWN = "00000000-0000-5000-8000-000000000000";

describe("/v1/regions/{id}", () => {
  it("GET returns the region", async () => {
    const res = await h.app.request(`/v1/regions/${regionId}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      regionId,
      imageId: "img",
      regionIndex: 1,
      bbox: [20, 0, 20, 20],
      area: 400,
      imageWidth: 40,
      imageHeight: 20,
      pack: "fake@1",
    });
  });

  it("unknown or malformed ids → 404 on every region route", async () => {
    for (const id of [UNKNOWN, "nope"]) {
      await expectError(await h.app.request(`/v1/regions/${id}`), 404, "not_found");
      await expectError(await h.app.request(`/v1/regions/${id}/mask.png`), 404);
      await expectError(await h.app.request(`/v1/regions/${id}/preview.png`), 404);
    }
  });

  it("mask.png is a 1-channel PNG of the image size, white exactly inside the region", async () => {
    const res = await h.app.request(`/v1/regions/${regionId}/mask.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    const png = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([40, 20, 1]);
    const data = await sharp(png).extractChannel(0).raw().toBuffer();
    expect(data.length).toBe(40 * 20);
    expect(data[5 * 40 + 19]).toBe(0);
    expect(data[5 * 40 + 20]).toBe(255);
    expect(data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0)).toBe(400);
  });

  it("preview.png shows the image: region tinted, outside dimmed", async () => {
    const res = await h.app.request(`/v1/regions/${regionId}/preview.png`);
    expect(res.status).toBe(200);
    const { data, info } = await sharp(Buffer.from(await res.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([40, 20]);
    const px = (x: number, y: number) =>
      Array.from(data.subarray((y * 40 + x) * info.channels, (y * 40 + x) * info.channels + 3));
    expect(px(5, 10)[0]).toBeLessThan(130); // outside: dimmed white
    expect(px(30, 10)).not.toEqual(px(5, 10)); // inside: tinted
    expect(px(30, 10)[0]).toBeGreaterThan(200);
  });
});
