import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateSecret } from "../../src/lib/webhooks/standard-webhooks.js";
import { pngBytes } from "../api/harness.js";
import { makeFunctions, signedRequest } from "./helpers.js";

type Fns = Awaited<ReturnType<typeof makeFunctions>>;
let fns: Fns;

beforeEach(async () => {
  fns = await makeFunctions();
});
afterEach(() => fns.close());

/** Stores bytes + a queued record, as the gateway does before enqueueing. */
async function queued(tenant: string, id: string, bytes: Uint8Array) {
  await fns.blobs.put(tenant, id, bytes, "image/png");
  const now = new Date().toISOString();
  await fns.catalog.put({
    tenant,
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

const job = (
  payload: unknown,
  options: { id?: string; timestamp?: number; secret?: string } = {},
) =>
  signedRequest("http://ingest/v1/jobs/ingest", payload, options).then((r) =>
    fns.ingest.request(r),
  );

describe("ingest function: POST /v1/jobs/ingest", () => {
  it("runs processIngestJob for a signed job and indexes the image", async () => {
    const bytes = await pngBytes(40, 30);
    fns.extractor.setLabels(bytes, ["red star", "blue square"]);
    await queued("acme", "img1", bytes);
    const res = await job({ tenant: "acme", imageId: "img1", attempt: 1, final: false });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      outcome: { status: "indexed", regionCount: 2 },
      replayed: false,
    });
    expect((await fns.catalog.get("acme", "img1"))?.status).toBe("indexed");
    expect(await fns.vectors.count("acme")).toBe(3);
  });

  it("is idempotent per webhook-id: a redelivery replays the answer without running the models", async () => {
    await queued("acme", "img1", await pngBytes());
    const first = await job({ tenant: "acme", imageId: "img1" }, { id: "msg_same" });
    const again = await job({ tenant: "acme", imageId: "img1" }, { id: "msg_same" });
    expect(first.status).toBe(200);
    expect(await again.json()).toMatchObject({ outcome: { status: "indexed" }, replayed: true });
    expect(fns.extractor.calls).toBe(1);
  });

  it("answers 503 for a retryable failure and runs again on redelivery", async () => {
    await queued("acme", "img1", await pngBytes());
    fns.extractor.transientFailures = 1;
    const first = await job(
      { tenant: "acme", imageId: "img1", attempt: 1, final: false },
      { id: "msg_r" },
    );
    expect(first.status).toBe(503);
    expect((await fns.catalog.get("acme", "img1"))?.status).toBe("queued");
    const second = await job(
      { tenant: "acme", imageId: "img1", attempt: 2, final: false },
      { id: "msg_r" },
    );
    expect(second.status).toBe(200);
    expect(fns.extractor.calls).toBe(2);
  });

  it("refuses unsigned, wrongly signed and stale requests with the one error body", async () => {
    const unsigned = await fns.ingest.request("http://ingest/v1/jobs/ingest", {
      method: "POST",
      body: "{}",
    });
    expect(unsigned.status).toBe(401);
    const body = (await unsigned.json()) as {
      error: { code: string; message: string; requestId: string };
    };
    expect(body.error.code).toBe("unauthorized");
    expect(body.error.requestId).toBeTruthy();
    expect((await job({ tenant: "acme", imageId: "x" }, { secret: generateSecret() })).status).toBe(
      401,
    );
    expect(
      (
        await job(
          { tenant: "acme", imageId: "x" },
          { timestamp: Math.floor(Date.now() / 1000) - 600 },
        )
      ).status,
    ).toBe(401);
  });

  it("validates the job body", async () => {
    const res = await job({ tenant: "../etc", imageId: "x" });
    expect(res.status).toBe(400);
  });

  it("serves /healthz without a signature", async () => {
    expect((await fns.ingest.request("http://ingest/healthz")).status).toBe(200);
  });
});
