/**
 * Property-based fuzzing of `POST /v1/images?wait=true` (issue 8 item 2) on the local server with the
 * real decoder: random bytes and mutated valid PNG/JPEG/WebP files (bit flips, truncations, chunk
 * splices, cross-format splices). Every answer is 2xx or 4xx — a 4xx with the one error body — the
 * process keeps serving, and no image is ever left partial: it is `indexed` with all its regions
 * listed and searchable, or it has no points at all.
 */
import fc from "fast-check";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../api/harness.js";
import { DecodingExtractor } from "../support/decoding-extractor.js";
import { mutate, mutation } from "../support/mutations.js";
import { startLocal, type Local } from "./local.js";

let local: Local;
let seeds: Uint8Array[];

beforeAll(async () => {
  local = await startLocal(new DecodingExtractor());
  // Small images with structure (a dark box on light), so mutations hit headers, tables and data.
  const data = Buffer.alloc(24 * 18 * 3, 230);
  for (let y = 4; y < 12; y++) data.fill(20, (y * 24 + 5) * 3, (y * 24 + 15) * 3);
  const img = () => sharp(data, { raw: { width: 24, height: 18, channels: 3 } });
  seeds = [
    await img().png().toBuffer(),
    await img().jpeg({ quality: 80 }).toBuffer(),
    await img().webp({ quality: 80 }).toBuffer(),
    await img().webp({ lossless: true }).toBuffer(),
  ].map((b) => new Uint8Array(b));
});
afterAll(() => local?.close());

const input: fc.Arbitrary<{ bytes: () => Uint8Array; type: string }> = fc.oneof(
  fc
    .record({
      raw: fc.uint8Array({ maxLength: 4096 }),
      type: fc.constantFrom("image/png", "image/jpeg", "image/webp"),
    })
    .map(({ raw, type }) => ({ bytes: () => raw, type })),
  fc
    .record({
      seed: fc.nat(),
      mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
      type: fc.constantFrom("image/png", "image/jpeg", "image/webp"),
    })
    .map(({ seed, mutations, type }) => ({
      bytes: () => mutations.reduce((b, m) => mutate(seeds, b, m), seeds[seed % seeds.length]!),
      type,
    })),
);

let n = 0;
const statuses = new Map<number, number>();

/** Posts once; checks the answer, then that the image is whole or absent. */
async function check({ bytes, type }: { bytes: () => Uint8Array; type: string }): Promise<void> {
  const id = `fz-${n++}`;
  const body = bytes();
  const res = await local.app.request(`/v1/images?id=${id}&wait=true`, {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    headers: { "content-type": type },
  });
  expect([201, 400, 413, 415, 422]).toContain(res.status);
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  if (res.status >= 400) await expectError(res, res.status);
  else await res.body?.cancel();

  const record = await local.services.catalog.get("default", id);
  const points = await local.vectors.listImage("default", id);
  if (res.status === 201) {
    expect(record?.status).toBe("indexed");
    expect(points).toHaveLength(record!.regionCount! + 1);
    const listed = (await (await local.app.request(`/v1/images/${id}/regions`)).json()) as {
      regions: { regionId: string }[];
    };
    expect(listed.regions).toHaveLength(record!.regionCount!);
    const hits = (await (
      await local.app.request("/v1/search", {
        method: "POST",
        body: JSON.stringify({ query: "dark light", limit: 10, imageIds: [id] }),
        headers: { "content-type": "application/json" },
      })
    ).json()) as { results: { regionId: string }[] };
    expect(hits.results.map((r) => r.regionId).sort()).toEqual(
      listed.regions.map((r) => r.regionId).sort(),
    );
  } else {
    expect(points).toEqual([]);
    expect(record === null || record.status === "failed").toBe(true);
  }
}

describe("fuzzing POST /v1/images?wait=true", () => {
  it("random and mutated images: always 2xx/4xx with the one error body, never a partial image, the server keeps serving", async () => {
    await fc.assert(fc.asyncProperty(input, check), {
      numRuns: 1000,
      seed: Number(process.env.FUZZ_SEED ?? 20261201),
    });
    expect((await local.app.request("/healthz")).status).toBe(200);
    // The fuzz reached the decoder (inputs indexed, inputs refused by it), not only the sniffer.
    for (const status of [201, 415, 422])
      expect(statuses.get(status) ?? 0, `answers ${status}`).toBeGreaterThan(0);
  }, 300_000);
});
