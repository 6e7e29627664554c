/**
 * Exactly one extraction per object (issue 19, item 5). The gateway writes uploads under the prefix
 * the bucket's notifications watch, so each upload reaches the ingest function twice: as the queue's
 * job and as a storage event. Both orders of arrival, and an event that overtakes the gateway's
 * record, must run the models once; a direct upload to the bucket (no job) once too.
 */
import { afterEach, describe, expect, it } from "vitest";
import { INGEST_JOB_PATH, STORAGE_WEBHOOK_PATH } from "../../src/lib/remote/ingest.js";
import { sha256Hex } from "../../src/lib/api/upload.js";
import { compareEvents } from "../../src/lib/webhooks/storage-events.js";
import { decide } from "../../src/lib/webhooks/storage-reconcile.js";
import { pngBytes } from "../api/harness.js";
import { makeFunctions, signedRequest } from "./helpers.js";

type Fns = Awaited<ReturnType<typeof makeFunctions>>;
let fns: Fns;
afterEach(() => fns.close());

const r2Created = (key: string, eventTime = new Date().toISOString()) => ({
  account: "a",
  bucket: "region-search-images",
  action: "PutObject",
  object: { key, size: 1, eTag: "e" },
  eventTime,
});

async function storageEvent(payload: unknown): Promise<string | undefined> {
  const res = await fns.ingest.request(
    await signedRequest(`http://ingest${STORAGE_WEBHOOK_PATH}`, payload),
  );
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { result: string }[] }).results[0]?.result;
}

async function job(imageId: string): Promise<number> {
  const res = await fns.ingest.request(
    await signedRequest(`http://ingest${INGEST_JOB_PATH}`, { tenant: "acme", imageId }),
  );
  return res.status;
}

/** What the gateway's upload does: bytes first, then the `queued` record (then the job). */
async function gatewayUpload(id: string, bytes: Uint8Array, { record = true } = {}) {
  await fns.blobs.put("acme", id, bytes, "image/png");
  if (record) await gatewayRecord(id, bytes);
}
async function gatewayRecord(id: string, bytes: Uint8Array) {
  const now = new Date().toISOString();
  await fns.catalog.put({
    tenant: "acme",
    id,
    status: "queued",
    contentType: "image/png",
    bytes: bytes.length,
    sha256: await sha256Hex(bytes),
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  });
}

describe("storage events and jobs: one extraction per uploaded object", () => {
  it("job before event: the event finds the image indexed", async () => {
    fns = await makeFunctions();
    const bytes = await pngBytes(40, 30);
    await gatewayUpload("a.png", bytes);
    expect(await job("a.png")).toBe(200);
    expect(await storageEvent(r2Created("images/acme/a.png"))).toBe("unchanged");
    expect(fns.extractor.calls).toBe(1);
  });

  it("event before job: the event leaves the queued image to its job", async () => {
    fns = await makeFunctions();
    const bytes = await pngBytes(40, 30);
    await gatewayUpload("b.png", bytes);
    expect(await storageEvent(r2Created("images/acme/b.png"))).toBe("pending");
    expect(fns.extractor.calls).toBe(0);
    expect(await job("b.png")).toBe(200);
    expect(fns.extractor.calls).toBe(1);
    expect((await fns.catalog.get("acme", "b.png"))?.status).toBe("indexed");
  });

  it("an event that overtakes the gateway's record waits for it, then leaves the image to its job", async () => {
    fns = await makeFunctions(undefined, undefined, { settleMs: 3_000 });
    const bytes = await pngBytes(40, 30);
    await gatewayUpload("c.png", bytes, { record: false });
    const event = storageEvent(r2Created("images/acme/c.png"));
    await new Promise((r) => setTimeout(r, 300));
    await gatewayRecord("c.png", bytes);
    expect(await event).toBe("pending");
    expect(await job("c.png")).toBe(200);
    expect(fns.extractor.calls).toBe(1);
  });

  it("a direct upload (no record once the settle window passed) is indexed once, repeats change nothing", async () => {
    fns = await makeFunctions(undefined, undefined, { settleMs: 200 });
    await gatewayUpload("d.png", await pngBytes(40, 30), { record: false });
    const event = r2Created("images/acme/d.png");
    expect(await storageEvent(event)).toBe("ingested");
    expect(await storageEvent(event)).toBe("unchanged");
    expect(fns.extractor.calls).toBe(1);
    expect((await fns.catalog.get("acme", "d.png"))?.status).toBe("indexed");
  });

  it("new bytes under a queued id are indexed; a record stuck past the pending window is taken over", () => {
    const now = Date.parse("2026-01-01T00:10:00Z");
    const rec = {
      sha256: "s",
      status: "queued" as const,
      pack: "p",
      updatedAt: "2026-01-01T00:09:30Z",
    };
    expect(decide(rec, "s", "p", now, 60_000)).toBe("pending");
    expect(decide(rec, "other", "p", now, 60_000)).toBe("ingest");
    expect(decide({ ...rec, updatedAt: "2026-01-01T00:00:00Z" }, "s", "p", now, 60_000)).toBe(
      "ingest",
    );
    expect(decide({ ...rec, status: "indexed" }, "s", "p", now, 60_000)).toBe("unchanged");
    expect(decide({ ...rec, status: "indexed" }, "s", "other-pack", now, 60_000)).toBe("ingest");
    expect(decide({ ...rec, status: "failed" }, "s", "p", now, 60_000)).toBe("ingest");
  });
});

describe("event order, each source by its own rule", () => {
  it("R2 event times compare as instants, whatever their precision", () => {
    const r2 = (order: string) => ({ source: "r2" as const, order });
    // As text, "…:00Z" sorts after "…:00.500Z" although it is earlier.
    expect(compareEvents(r2("2026-01-01T00:00:00Z"), r2("2026-01-01T00:00:00.500Z"))).toBe(-1);
    expect(compareEvents(r2("2026-01-01T00:00:01Z"), r2("2026-01-01T00:00:00.999Z"))).toBe(1);
    expect(compareEvents(r2("2026-01-01T00:00:01.000Z"), r2("2026-01-01T00:00:01Z"))).toBe(0);
  });

  it("S3 sequencers compare as hex after right-padding; sources do not compare with each other", () => {
    const s3 = (order: string) => ({ source: "s3" as const, order });
    expect(compareEvents(s3("0055AED6DCD90281E5"), s3("0055AED6DCD90281E6"))).toBe(-1);
    expect(compareEvents(s3("0055AED6DCD90281E5"), s3("0055AED6DCD90281E500"))).toBe(0);
    expect(compareEvents(s3("0056"), s3("0055AED6DCD90281E5"))).toBe(1);
    expect(compareEvents(s3("01"), { source: "r2", order: "2026-01-01T00:00:00Z" })).toBeNull();
  });
});
