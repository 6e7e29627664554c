/**
 * The `processing` mark of an ingest job is written while the blob is read and the models run
 * (src/lib/ingest.ts): it must still never land after the job's later writes, and its failure must
 * still fail the job before any point is written.
 */
import { afterEach, describe, expect, it } from "vitest";
import { processIngestJob } from "../../src/lib/ingest.js";
import type { ImageCatalog, ImageRecord } from "../../src/lib/services.js";
import { makeHarness, pngBytes, type Harness } from "./harness.js";

let h: Harness;
afterEach(() => h.close());

/** The harness's catalog with every `processing` write delayed by `delayMs` or failing. */
function markingCatalog(
  inner: ImageCatalog,
  mark: { delayMs?: number; fail?: boolean },
): ImageCatalog {
  return {
    get: (t, id) => inner.get(t, id),
    delete: (t, id) => inner.delete(t, id),
    list: (t, o) => inner.list(t, o),
    put: async (record: ImageRecord) => {
      if (record.status === "processing") {
        await new Promise((r) => setTimeout(r, mark.delayMs ?? 0));
        if (mark.fail) throw new Error("disk full (fake)");
      }
      return inner.put(record);
    },
  };
}

async function queuedImage(id: string): Promise<void> {
  const bytes = await pngBytes(12, 8);
  const now = new Date().toISOString();
  await h.blobs.put("default", id, bytes, "image/png");
  await h.catalog.put({
    tenant: "default",
    id,
    status: "queued",
    contentType: "image/png",
    bytes: bytes.length,
    sha256: "x",
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  });
}

describe("the processing mark of an ingest job", () => {
  it("a slow mark is waited for: the record ends indexed, not processing, with the attempt counted", async () => {
    h = await makeHarness();
    await queuedImage("slow");
    const catalog = markingCatalog(h.catalog, { delayMs: 50 });
    const outcome = await processIngestJob(
      { ...h.services, catalog, extractor: h.extractor },
      { tenant: "default", imageId: "slow" },
      { attempt: 2, final: false },
    );
    expect(outcome.status).toBe("indexed");
    expect(await h.catalog.get("default", "slow")).toMatchObject({
      status: "indexed",
      attempts: 2,
    });
  });

  it("a slow mark with a failing extraction still ends failed, not processing", async () => {
    h = await makeHarness();
    await queuedImage("slow-bad");
    h.extractor.transientFailures = 1;
    const catalog = markingCatalog(h.catalog, { delayMs: 50 });
    const outcome = await processIngestJob(
      { ...h.services, catalog, extractor: h.extractor },
      { tenant: "default", imageId: "slow-bad" },
    );
    expect(outcome).toMatchObject({ status: "failed", retry: false });
    expect(await h.catalog.get("default", "slow-bad")).toMatchObject({
      status: "failed",
      errorCode: "ingest_failed",
    });
  });

  it("a failed mark fails the job before any point is written and leaves the record queued", async () => {
    h = await makeHarness();
    await queuedImage("no-mark");
    const catalog = markingCatalog(h.catalog, { fail: true });
    await expect(
      processIngestJob(
        { ...h.services, catalog, extractor: h.extractor },
        { tenant: "default", imageId: "no-mark" },
      ),
    ).rejects.toThrow("disk full");
    expect(await h.vectors.count("default")).toBe(0);
    expect(await h.catalog.get("default", "no-mark")).toMatchObject({ status: "queued" });
  });
});
