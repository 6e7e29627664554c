import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pngBytes } from "../api/harness.js";
import { makeFunctions, signedRequest } from "./helpers.js";

type Fns = Awaited<ReturnType<typeof makeFunctions>>;
let fns: Fns;

beforeEach(async () => {
  fns = await makeFunctions();
});
afterEach(() => fns.close());

const s3 = (eventName: string, key: string, sequencer: string) => ({
  Records: [
    {
      eventVersion: "2.1",
      eventSource: "aws:s3",
      eventName,
      eventTime: "2026-01-01T00:00:00.000Z",
      s3: { bucket: { name: "b" }, object: { key, size: 1, eTag: "e", sequencer } },
    },
  ],
});
const r2 = (action: string, key: string, eventTime: string) => ({
  account: "a",
  bucket: "b",
  action,
  object: { key, size: 1, eTag: "e" },
  eventTime,
});

async function deliver(payload: unknown, id?: string) {
  const res = await fns.ingest.request(
    await signedRequest("http://ingest/v1/webhooks/storage", payload, id ? { id } : {}),
  );
  return {
    status: res.status,
    body: (await res.json()) as { results: { key: string; result: string }[] },
  };
}

describe("ingest function: POST /v1/webhooks/storage", () => {
  it("indexes an S3-created object once, however often the event is delivered", async () => {
    const bytes = await pngBytes(40, 30);
    await fns.blobs.put("acme", "cat.png", bytes, "image/png");
    const event = s3("ObjectCreated:Put", "images/acme/cat.png", "0055AED6DCD90281E5");
    const results = [];
    for (let i = 0; i < 5; i++) results.push((await deliver(event)).body.results[0]?.result);
    expect(results[0]).toBe("ingested");
    expect(results.slice(1).every((r) => r === "unchanged" || r === "stale")).toBe(true);
    expect(fns.extractor.calls).toBe(1);
    expect(await fns.vectors.count("acme")).toBe(3);
    expect((await fns.catalog.get("acme", "cat.png"))?.status).toBe("indexed");
  });

  it("decodes URL-encoded S3 keys", async () => {
    await fns.blobs.put("acme", "a-b.png", await pngBytes(), "image/png");
    const { body } = await deliver(s3("ObjectCreated:Put", "images%2Facme%2Fa-b.png", "01"));
    expect(body.results[0]).toMatchObject({ key: "images/acme/a-b.png", result: "ingested" });
    // `+` is a space in form encoding: "my cat.png" is no valid image id, so the event is ignored.
    const plus = await deliver(s3("ObjectCreated:Put", "images/acme/my+cat.png", "02"));
    expect(plus.body.results[0]).toMatchObject({
      key: "images/acme/my cat.png",
      result: "ignored",
    });
  });

  it("a delete delivered before its create leaves no image (the object is gone)", async () => {
    // The object was created (seq 01) and deleted (seq 02); the events arrive in reverse.
    const del = await deliver(s3("ObjectRemoved:Delete", "images/acme/gone.png", "02"));
    expect(del.body.results[0]?.result).toBe("deleted");
    const create = await deliver(s3("ObjectCreated:Put", "images/acme/gone.png", "01"));
    expect(create.body.results[0]?.result).toBe("stale");
    expect(await fns.catalog.get("acme", "gone.png")).toBeNull();
    expect(await fns.vectors.count("acme")).toBe(0);
  });

  it("a stale delete cannot remove an object that exists (R2 events reconcile with the object)", async () => {
    await fns.blobs.put("acme", "kept.png", await pngBytes(), "image/png");
    // R2 has no sequencer; even an out-of-order delete only removes what is really gone.
    expect(
      (await deliver(r2("PutObject", "images/acme/kept.png", "2026-01-01T00:00:02Z"))).body
        .results[0]?.result,
    ).toBe("ingested");
    expect(
      (await deliver(r2("DeleteObject", "images/acme/kept.png", "2026-01-01T00:00:01Z"))).body
        .results[0]?.result,
    ).toBe("stale");
    expect(await fns.vectors.count("acme")).toBe(3);
  });

  it("a delete removes the points and the record", async () => {
    await fns.blobs.put("acme", "d.png", await pngBytes(), "image/png");
    await deliver(r2("PutObject", "images/acme/d.png", "2026-01-01T00:00:01Z"));
    await fns.blobs.delete("acme", "d.png");
    expect(
      (await deliver(r2("DeleteObject", "images/acme/d.png", "2026-01-01T00:00:02Z"))).body
        .results[0]?.result,
    ).toBe("deleted");
    expect(await fns.vectors.count("acme")).toBe(0);
    expect(await fns.catalog.get("acme", "d.png")).toBeNull();
  });

  it("records a non-image object as failed without running the models", async () => {
    await fns.blobs.put("acme", "notes.png", new TextEncoder().encode("hello"), "image/png");
    const { body } = await deliver(s3("ObjectCreated:Put", "images/acme/notes.png", "01"));
    expect(body.results[0]).toMatchObject({
      result: "rejected",
      errorCode: "unsupported_media_type",
    });
    expect(fns.extractor.calls).toBe(0);
  });

  it("ignores keys outside images/<tenant>/<id> and refuses bodies that are no notification", async () => {
    expect(
      (await deliver(s3("ObjectCreated:Put", "other/x.png", "01"))).body.results[0]?.result,
    ).toBe("ignored");
    expect((await deliver({ Event: "s3:TestEvent" })).body.results).toEqual([]);
    expect(
      (
        await fns.ingest.request(
          await signedRequest("http://ingest/v1/webhooks/storage", { hello: 1 }),
        )
      ).status,
    ).toBe(400);
  });
});
