/**
 * No silent loss (issue 19, item 4): a job whose record or bytes the ingest function cannot read is
 * never acknowledged as done. It answers 503 (the queue retries), on the last attempt too (the queue
 * dead-letters it; test/e2e/serverless.test.ts follows it into the dead-letter queue).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IMAGE_MISSING } from "../../src/lib/ingest.js";
import { INGEST_JOB_PATH } from "../../src/lib/remote/ingest.js";
import { sha256Hex } from "../../src/lib/api/upload.js";
import { pngBytes } from "../api/harness.js";
import { makeFunctions, signedRequest } from "./helpers.js";

let fns: Awaited<ReturnType<typeof makeFunctions>>;
beforeEach(async () => {
  fns = await makeFunctions();
});
afterEach(() => fns.close());

async function job(imageId: string, attempt: number, final: boolean) {
  const res = await fns.ingest.request(
    await signedRequest(`http://ingest${INGEST_JOB_PATH}`, {
      tenant: "acme",
      imageId,
      attempt,
      final,
    }),
  );
  const body = (await res.json()) as {
    outcome: { status: string; errorCode?: string; error?: string };
  };
  return { status: res.status, outcome: body.outcome };
}

describe("ingest function: a job it cannot read is retried, then dead-lettered", () => {
  it("a missing record answers 503 image_missing on every attempt, the last one included", async () => {
    for (const [attempt, final] of [
      [1, false],
      [4, true],
    ] as const) {
      const { status, outcome } = await job("nowhere", attempt, final);
      expect(status).toBe(503);
      expect(outcome).toMatchObject({ status: "failed", errorCode: IMAGE_MISSING });
      expect(outcome.error).toMatch(/record could not be read/);
    }
    expect(fns.extractor.calls).toBe(0);
  });

  it("missing bytes keep the record queued with the error, and fail it on the last attempt", async () => {
    const bytes = await pngBytes(20, 20);
    const now = new Date().toISOString();
    await fns.catalog.put({
      tenant: "acme",
      id: "nobytes",
      status: "queued",
      contentType: "image/png",
      bytes: bytes.length,
      sha256: await sha256Hex(bytes),
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    });
    expect((await job("nobytes", 1, false)).status).toBe(503);
    expect(await fns.catalog.get("acme", "nobytes")).toMatchObject({
      status: "queued",
      errorCode: IMAGE_MISSING,
    });
    expect((await job("nobytes", 2, true)).status).toBe(503);
    const failed = await fns.catalog.get("acme", "nobytes");
    expect(failed).toMatchObject({ status: "failed", errorCode: IMAGE_MISSING });
    expect(failed?.error).toMatch(/bytes could not be read/);
  });
});
