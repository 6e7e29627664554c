/**
 * The function apps run on the one app shell (src/lib/api/shell.ts), as the public API does: the
 * caller's x-request-id only when it is a plain token, echoed in the header and the error body, and
 * one request log line per call naming the function.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INGEST_JOB_PATH } from "../../src/lib/remote/ingest.js";
import { createIngestFunction } from "../../src/node/functions/ingest/app.js";
import type { Logger } from "../../src/node/logging.js";
import { MemoryVectorStore } from "../store/memory-store.js";
import { FakeExtractor } from "../support/fakes.js";
import { makeFunctions, SECRET, signedRequest } from "./helpers.js";

type Fns = Awaited<ReturnType<typeof makeFunctions>>;
let fns: Fns;

beforeEach(async () => {
  fns = await makeFunctions();
});
afterEach(() => fns.close());

const unsigned = (headers: Record<string, string>) =>
  fns.ingest.request(`http://ingest${INGEST_JOB_PATH}`, { method: "POST", body: "{}", headers });

describe("function app shell", () => {
  it("echoes a plain x-request-id in the header and the error body, and replaces any other", async () => {
    const kept = await unsigned({ "x-request-id": "req-42" });
    expect(kept.headers.get("x-request-id")).toBe("req-42");
    expect(((await kept.json()) as { error: { requestId: string } }).error.requestId).toBe(
      "req-42",
    );

    const replaced = await unsigned({ "x-request-id": "not a token\tat all" });
    const id = replaced.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await replaced.json()) as { error: { requestId: string } }).error.requestId).toBe(id);
  });

  it("answers unknown paths with the one error body", async () => {
    const res = await fns.ingest.request(await signedRequest("http://ingest/v1/nothing-here", {}));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  it("logs one request line per call, at info, naming the function and the webhook id", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = {
      info: (o: Record<string, unknown>) => lines.push(o),
      warn: () => undefined, // the job's own line ("ingest failed")
      error: () => undefined,
    } as unknown as Logger;
    const { app } = createIngestFunction(
      { ...fns, vectors: new MemoryVectorStore() },
      new FakeExtractor(),
      { secrets: [SECRET], log },
    );
    await app.request(
      await signedRequest(
        `http://ingest${INGEST_JOB_PATH}`,
        { tenant: "acme", imageId: "missing" },
        { id: "msg_shell" },
      ),
    );
    await app.request(`http://ingest${INGEST_JOB_PATH}`, { method: "POST", body: "{}" });
    expect(lines).toEqual([
      expect.objectContaining({
        event: "request",
        fn: "ingest",
        method: "POST",
        path: INGEST_JOB_PATH,
        // The record is not in this function's storage: retried, never acknowledged as done.
        status: 503,
        webhookId: "msg_shell",
      }),
      expect.objectContaining({
        event: "request",
        fn: "ingest",
        status: 401,
        errorCode: "unauthorized",
      }),
    ]);
  });
});
