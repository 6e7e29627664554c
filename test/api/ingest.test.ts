import { afterEach, describe, expect, it, vi } from "vitest";
import { processIngestJob } from "../../src/lib/ingest.js";
import { pointId } from "../../src/lib/store/ids.js";
import { InProcessJobQueue } from "../../src/node/jobs/in-process-queue.js";
import { FakeExtractor } from "../support/fakes.js";
import { MemoryVectorStore } from "../store/memory-store.js";
import { expectError, makeHarness, pngBytes, upload, type Harness } from "./harness.js";

let h: Harness;
afterEach(() => h.close());

describe("ingest jobs", () => {
  it("a transient failure is retried with exponential backoff and then succeeds", async () => {
    h = await makeHarness({ maxAttempts: 3, backoffMs: 5 });
    h.extractor.transientFailures = 2;
    const res = await upload(h, await pngBytes(), { query: "?id=t&wait=true" });
    expect(res.status).toBe(201);
    expect(h.events.map((e) => [e.attempt, e.outcome.status, e.retryInMs])).toEqual([
      [1, "failed", 5],
      [2, "failed", 10],
      [3, "indexed", undefined],
    ]);
    const rec = await h.catalog.get("default", "t");
    expect(rec).toMatchObject({ status: "indexed", attempts: 3 });
    expect(rec?.error).toBeUndefined();
  });

  it("a job failing every attempt ends `failed` (dead letter) with its error, after maxAttempts", async () => {
    h = await makeHarness({ maxAttempts: 2, backoffMs: 1 });
    h.extractor.transientFailures = 10;
    const err = await expectError(
      await upload(h, await pngBytes(), { query: "?id=dead&wait=true" }),
      500,
      "ingest_failed",
    );
    expect(err.message).toMatch(/model session crashed/);
    expect(h.extractor.calls).toBe(2);
    const rec = (await (await h.app.request("/v1/images/dead")).json()) as Record<string, unknown>;
    expect(rec).toMatchObject({ status: "failed", errorCode: "ingest_failed" });
    expect(String(rec.error)).toMatch(/crashed/);
    expect((await h.jobs.deadLetters(h.catalog, "default")).map((r) => r.id)).toEqual(["dead"]);
  });

  it("an input error is not retried", async () => {
    h = await makeHarness({ maxAttempts: 5 });
    const bytes = await pngBytes(9, 9);
    h.extractor.invalid.add((await import("../support/fakes.js")).sha256(bytes));
    await upload(h, bytes, { query: "?id=bad" });
    await h.jobs.idle();
    expect(h.extractor.calls).toBe(1);
    expect(await h.catalog.get("default", "bad")).toMatchObject({
      status: "failed",
      errorCode: "invalid_image",
    });
  });

  it("records left queued/processing by a previous process are recovered at start-up", async () => {
    h = await makeHarness();
    const bytes = await pngBytes();
    const now = new Date().toISOString();
    await h.blobs.put("default", "orphan", bytes, "image/png");
    await h.catalog.put({
      tenant: "default",
      id: "orphan",
      status: "processing",
      contentType: "image/png",
      bytes: bytes.length,
      sha256: "x",
      attempts: 1,
      createdAt: now,
      updatedAt: now,
    });
    const queue = new InProcessJobQueue({
      handler: (job, attempt) =>
        processIngestJob({ ...h.services, extractor: h.extractor }, job, attempt),
    });
    expect(await queue.recover(h.catalog)).toBe(1);
    await queue.idle();
    expect(await h.catalog.get("default", "orphan")).toMatchObject({
      status: "indexed",
      regionCount: 2,
    });
  });

  it("recovery re-enqueues unfinished records oldest upload first, not in id order", async () => {
    h = await makeHarness();
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const record = (id: string, createdAt: string, status: "queued" | "processing") =>
      h.catalog.put({
        tenant: "default",
        id,
        status,
        contentType: "image/png",
        bytes: 1,
        sha256: "x",
        attempts: 0,
        createdAt,
        updatedAt: createdAt,
      });
    await record("c9-0", at(1), "processing");
    await record("c10-0", at(2), "queued");
    await record("c10-1", at(3), "queued");
    await h.catalog.put({
      tenant: "default",
      id: "a-done",
      status: "indexed",
      contentType: "image/png",
      bytes: 1,
      sha256: "x",
      attempts: 1,
      createdAt: at(0),
      updatedAt: at(0),
    });
    const order: string[] = [];
    const queue = new InProcessJobQueue({
      handler: async (job) => {
        order.push(job.imageId);
        return { status: "skipped", reason: "test" };
      },
    });
    expect(await queue.recover(h.catalog)).toBe(3);
    await queue.idle();
    expect(order).toEqual(["c9-0", "c10-0", "c10-1"]);
  });

  it("deleting an image while its job runs leaves no points behind", async () => {
    h = await makeHarness();
    let release!: () => void;
    h.extractor.gate = new Promise((r) => (release = r));
    await upload(h, await pngBytes(), { query: "?id=gone" });
    try {
      // The `processing` mark lands while the (gated) extraction runs: wait for it, however loaded the machine.
      await vi.waitFor(
        async () =>
          expect((await (await h.app.request("/v1/images/gone")).json()).status).toBe("processing"),
        { timeout: 10_000, interval: 10 },
      );
      expect((await h.app.request("/v1/images/gone", { method: "DELETE" })).status).toBe(204);
    } finally {
      release(); // even when an expectation failed, so the job (and afterEach's close) can finish
    }
    await h.jobs.idle();
    expect(await h.vectors.count("default")).toBe(0);
    expect(h.events.at(-1)?.outcome.status).toBe("skipped");
  });

  it("a new upload while the job runs re-runs it with the new bytes", async () => {
    h = await makeHarness();
    let release!: () => void;
    h.extractor.gate = new Promise((r) => (release = r));
    const a = await pngBytes(20, 10, [1, 0, 0]);
    const b = await pngBytes(20, 10, [0, 1, 0]);
    h.extractor.setLabels(b, ["x", "y", "z"]);
    await upload(h, a, { query: "?id=swap" });
    await new Promise((r) => setTimeout(r, 20));
    await upload(h, b, { query: "?id=swap" });
    release();
    await h.jobs.idle();
    expect(await h.catalog.get("default", "swap")).toMatchObject({
      status: "indexed",
      regionCount: 3,
    });
    expect(await h.vectors.count("default", { imageIds: ["swap"] })).toBe(4);
  });
});

describe("processIngestJob", () => {
  it("writes new points before deleting stale ones, with deterministic ids", async () => {
    h = await makeHarness();
    const calls: string[] = [];
    const vectors = new MemoryVectorStore();
    const spy = Object.assign(Object.create(vectors) as MemoryVectorStore, {
      upsert: async (...a: Parameters<MemoryVectorStore["upsert"]>) => (
        calls.push("upsert"),
        vectors.upsert(...a)
      ),
      deleteImage: async (...a: Parameters<MemoryVectorStore["deleteImage"]>) => (
        calls.push(`delete keep=${a[2]?.length}`),
        vectors.deleteImage(...a)
      ),
    });
    const bytes = await pngBytes();
    const now = new Date().toISOString();
    await h.blobs.put("t1", "img", bytes, "image/png");
    await h.catalog.put({
      tenant: "t1",
      id: "img",
      status: "queued",
      contentType: "image/png",
      bytes: 1,
      sha256: "x",
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    });
    const extractor = new FakeExtractor("pack@2");
    const out = await processIngestJob(
      { catalog: h.catalog, blobs: h.blobs, vectors: spy, extractor },
      { tenant: "t1", imageId: "img" },
    );
    expect(out.status).toBe("indexed");
    expect(calls).toEqual(["upsert", "delete keep=3"]);
    const ids = (await vectors.listImage("t1", "img")).map((p) => p.id);
    expect(ids).toEqual([-1, 0, 1].map((i) => pointId("t1", "img", i, "pack@2")));
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
    expect(pointId("t2", "img", 0, "pack@2")).not.toBe(ids[1]);
  });
});
