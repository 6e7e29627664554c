/**
 * Ingestion under store faults, on the real embedded store (LanceDB): a store write that fails
 * halfway is retried with exponential backoff and never leaves duplicate points; a job that keeps
 * failing ends `failed` — listed by `GET /v1/images?status=failed` and replayed by
 * `POST /v1/images/{id}/retry`, tenant-scoped — and a replay after the fault is gone indexes the image
 * with exactly its points.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StoredPoint, VectorStore } from "../../src/lib/store/types.js";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { expectError, makeHarness, pngBytes, upload, type Harness } from "./harness.js";

/**
 * The real store, except that its next `failures` image replacements write only the first half of
 * their points and then throw (as a store without one-commit replacement can fail midway).
 */
class HalfWritingStore implements VectorStore {
  failures = 0;
  partialWrites = 0;
  constructor(private readonly inner: LanceVectorStore) {}

  async replaceImage(tenant: string, imageId: string, points: StoredPoint[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      this.partialWrites++;
      await this.inner.upsert(tenant, points.slice(0, Math.ceil(points.length / 2)));
      throw new Error("lance error: commit conflict (injected after a partial write)");
    }
    await this.inner.replaceImage(tenant, imageId, points);
  }
  upsert: VectorStore["upsert"] = (...a) => this.inner.upsert(...a);
  deleteImage: VectorStore["deleteImage"] = (...a) => this.inner.deleteImage(...a);
  search: VectorStore["search"] = (...a) => this.inner.search(...a);
  get: VectorStore["get"] = (...a) => this.inner.get(...a);
  listImage: VectorStore["listImage"] = (...a) => this.inner.listImage(...a);
  count: VectorStore["count"] = (...a) => this.inner.count(...a);
  setImageFields: VectorStore["setImageFields"] = (...a) => this.inner.setImageFields(...a);
  close = () => this.inner.close();
}

const LABELS = ["red fox", "white hen", "blue pond", "green reed"];
const A = { authorization: "Bearer key-a" };
const B = { authorization: "Bearer key-b" };
let dir: string;
let store: HalfWritingStore;
let h: Harness;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rs-dlq-"));
  store = new HalfWritingStore(await LanceVectorStore.open({ dir }));
  h = await makeHarness({
    vectors: store,
    maxAttempts: 3,
    backoffMs: 20,
    apiKeys: { "key-a": "tenant-a", "key-b": "tenant-b" },
  });
});
afterEach(async () => {
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

async function fixture(rgb: [number, number, number]): Promise<Uint8Array> {
  const bytes = await pngBytes(40, 10, rgb);
  h.extractor.setLabels(bytes, LABELS);
  return bytes;
}

const points = (tenant: string, imageId: string) => store.count(tenant, { imageIds: [imageId] });

describe("ingest retries after a half-written store write", () => {
  it("retries with doubling backoff and ends with exactly one point per region (+ the whole image)", async () => {
    store.failures = 2;
    const res = await upload(h, await fixture([200, 90, 10]), {
      query: "?id=fox&wait=true",
      headers: A,
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ id: "fox", status: "indexed", regionCount: 4 });
    expect(store.partialWrites).toBe(2);
    expect(h.events.map((e) => [e.attempt, e.outcome.status, e.retryInMs])).toEqual([
      [1, "failed", 20],
      [2, "failed", 40],
      [3, "indexed", undefined],
    ]);
    expect(await points("tenant-a", "fox")).toBe(LABELS.length + 1);
    const regions = (await (
      await h.app.request("/v1/images/fox/regions", { headers: A })
    ).json()) as { regions: { regionIndex: number }[] };
    expect(regions.regions.map((r) => r.regionIndex)).toEqual([0, 1, 2, 3]);
  });
});

describe("dead letters: list and replay", () => {
  async function deadLetter(id: string, rgb: [number, number, number]): Promise<void> {
    store.failures = 1_000;
    expect((await upload(h, await fixture(rgb), { query: `?id=${id}`, headers: A })).status).toBe(
      202,
    );
    await h.jobs.idle();
    store.failures = 0;
  }

  it("a job that keeps failing ends failed, with no point left behind, and is listed by status=failed", async () => {
    await deadLetter("doomed", [1, 2, 3]);
    expect(store.partialWrites).toBe(3);
    expect(await points("tenant-a", "doomed")).toBe(0);
    expect(
      (await upload(h, await fixture([9, 9, 9]), { query: "?id=fine&wait=true", headers: A }))
        .status,
    ).toBe(201);

    const failed = (await (
      await h.app.request("/v1/images?status=failed", { headers: A })
    ).json()) as { images: { id: string; status: string; error: string; errorCode: string }[] };
    expect(failed.images).toEqual([
      expect.objectContaining({
        id: "doomed",
        status: "failed",
        errorCode: "ingest_failed",
        error: expect.stringMatching(/commit conflict/),
      }),
    ]);
    const all = (await (await h.app.request("/v1/images", { headers: A })).json()) as {
      images: { id: string }[];
    };
    expect(all.images.map((i) => i.id)).toEqual(["doomed", "fine"]);
    // Tenant B sees none of it.
    expect(await (await h.app.request("/v1/images?status=failed", { headers: B })).json()).toEqual({
      images: [],
      nextCursor: null,
    });
  });

  it("replays a dead letter once the fault is gone: indexed, with exactly its points", async () => {
    await deadLetter("doomed", [4, 5, 6]);
    const res = await h.app.request("/v1/images/doomed/retry?wait=true", {
      method: "POST",
      headers: A,
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ id: "doomed", status: "indexed", regionCount: 4 });
    expect(await points("tenant-a", "doomed")).toBe(LABELS.length + 1);
    const record = (await (
      await h.app.request("/v1/images/doomed", { headers: A })
    ).json()) as Record<string, unknown>;
    expect(record).not.toHaveProperty("error");
    expect(await (await h.app.request("/v1/images?status=failed", { headers: A })).json()).toEqual({
      images: [],
      nextCursor: null,
    });
    // Search finds it.
    const hits = (await (
      await h.app.request("/v1/search?q=blue%20pond&limit=1", { headers: A })
    ).json()) as { results: { imageId: string }[] };
    expect(hits.results[0]?.imageId).toBe("doomed");
  });

  it("without wait: 202 queued, and the in-process queue runs it", async () => {
    await deadLetter("later", [7, 8, 9]);
    const res = await h.app.request("/v1/images/later/retry", { method: "POST", headers: A });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: "later", status: "queued" });
    await h.jobs.idle();
    expect(await points("tenant-a", "later")).toBe(LABELS.length + 1);
  });

  it("404 for unknown and other tenants' ids, 409 unless failed or when the bytes are gone", async () => {
    await deadLetter("doomed", [10, 11, 12]);
    await expectError(
      await h.app.request("/v1/images/nope/retry", { method: "POST", headers: A }),
      404,
      "not_found",
    );
    await expectError(
      await h.app.request("/v1/images/doomed/retry", { method: "POST", headers: B }),
      404,
      "not_found",
    );
    expect((await h.catalog.get("tenant-a", "doomed"))?.status).toBe("failed");

    expect(
      (await upload(h, await fixture([13, 14, 15]), { query: "?id=ok&wait=true", headers: A }))
        .status,
    ).toBe(201);
    const conflict = await expectError(
      await h.app.request("/v1/images/ok/retry", { method: "POST", headers: A }),
      409,
      "conflict",
    );
    expect(conflict.message).toMatch(/is indexed; only failed images can be retried/);

    await h.blobs.delete("tenant-a", "doomed");
    const gone = await expectError(
      await h.app.request("/v1/images/doomed/retry", { method: "POST", headers: A }),
      409,
      "conflict",
    );
    expect(gone.message).toMatch(/bytes .* are gone/);
    expect((await h.catalog.get("tenant-a", "doomed"))?.status).toBe("failed");
  });

  it("GET /v1/images validates status and limit, naming the cap", async () => {
    await expectError(
      await h.app.request("/v1/images?status=lost", { headers: A }),
      400,
      "invalid_request",
    );
    const cap = await expectError(
      await h.app.request("/v1/images?limit=1001", { headers: A }),
      400,
      "invalid_request",
    );
    expect(cap.message).toMatch(/limit.*1000/);
    await deadLetter("one", [20, 20, 20]);
    await deadLetter("two", [21, 21, 21]);
    expect(
      (
        (await (
          await h.app.request("/v1/images?status=failed&limit=1", { headers: A })
        ).json()) as { images: unknown[] }
      ).images,
    ).toHaveLength(1);
  });
});
