import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/edge/api-keys.js";
import { pngBytes } from "../api/harness.js";
import { startStack, type Stack } from "./worker.js";

const MAX_UPLOAD = 150_000;
const RATE_LIMIT = 40;
let stack: Stack;
let acme: string;
let other: string;

beforeAll(async () => {
  // URL fetching switched off: the off switch is tested here (gateway-intake.test.ts runs the default, on).
  stack = await startStack({
    maxUploadBytes: MAX_UPLOAD,
    rateLimit: RATE_LIMIT,
    vars: { URL_FETCH_ENABLED: "false" },
  });
  acme = await stack.addKey("acme");
  other = await stack.addKey("other");
}, 120_000);
afterAll(() => stack?.close());

const call = (path: string, init: RequestInit & { key?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  return stack.mf.dispatchFetch(`http://gateway${path}`, {
    ...init,
    headers,
  } as never) as unknown as Promise<Response>;
};

/** The record as the Worker's R2 holds it (read directly, so polling costs no rate-limit tokens). */
async function recordStatus(tenant: string, id: string): Promise<string | undefined> {
  const obj = await (await stack.mf.getR2Bucket("IMAGES")).get(`catalog/${tenant}/${id}.json`);
  return obj ? ((await obj.json()) as { status: string }).status : undefined;
}

async function waitIndexed(
  tenant: string,
  id: string,
  timeoutMs = 30_000,
): Promise<string | undefined> {
  const until = Date.now() + timeoutMs;
  let status: string | undefined;
  while (Date.now() < until) {
    status = await recordStatus(tenant, id);
    if (status === "indexed" || status === "failed") return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as {
    error: { code: string; message: string; requestId: string };
  };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

describe("gateway on workerd: upload → queue → signed ingest → search", () => {
  it("wrangler deploy --dry-run produced the bundle the tests run", () => {
    expect(existsSync(stack.script)).toBe(true);
  });

  it("indexes an upload and finds its region, with mask, by text", async () => {
    const bytes = await pngBytes(48, 32, [10, 200, 10]);
    stack.extractor.setLabels(bytes, ["green leaf", "grey stone"]);
    const up = await call("/v1/images?id=leaf.png", {
      method: "POST",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "image/png" },
      key: acme,
    });
    expect(up.status).toBe(202);
    expect(await up.json()).toEqual({ id: "leaf.png", status: "queued" });
    expect(await waitIndexed("acme", "leaf.png")).toBe("indexed");

    const res = await call("/v1/search?q=green+leaf&limit=5", { key: acme });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as {
      results: {
        regionId: string;
        imageId: string;
        bbox: number[];
        mask: { size: number[]; counts: string };
      }[];
    };
    expect(results[0]).toMatchObject({
      imageId: "leaf.png",
      bbox: [0, 0, 24, 32],
      mask: { size: [32, 48] },
    });

    const region = await call(`/v1/regions/${results[0]!.regionId}`, { key: acme });
    expect(region.status).toBe(200);
    const mask = await call(`/v1/regions/${results[0]!.regionId}/mask.png`, { key: acme });
    expect(mask.status).toBe(200);
    expect(mask.headers.get("content-type")).toBe("image/png");
    expect([...new Uint8Array(await mask.arrayBuffer()).slice(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    const image = await call("/v1/images/leaf.png", { key: acme });
    expect(await image.json()).toMatchObject({ id: "leaf.png", status: "indexed", regionCount: 2 });

    // Another tenant sees nothing of acme's library.
    const theirs = (await (await call("/v1/search?q=green+leaf", { key: other })).json()) as {
      results: unknown[];
    };
    expect(theirs.results).toEqual([]);
    await expectError(
      await call(`/v1/regions/${results[0]!.regionId}`, { key: other }),
      404,
      "not_found",
    );
  });

  it("retries a failed ingest call through the queue", async () => {
    const bytes = await pngBytes(20, 20, [1, 2, 3]);
    stack.extractor.transientFailures = 1;
    const calls = stack.extractor.calls;
    const up = await call("/v1/images?id=retry.png", {
      method: "POST",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "image/png" },
      key: acme,
    });
    expect(up.status).toBe(202);
    expect(await waitIndexed("acme", "retry.png")).toBe("indexed");
    expect(stack.extractor.calls - calls).toBe(2);
  });

  it("dead-letters a job that keeps failing and marks its image failed", async () => {
    const bytes = await pngBytes(20, 20, [4, 5, 6]);
    stack.extractor.transientFailures = 100;
    try {
      const up = await call("/v1/images?id=doomed.png", {
        method: "POST",
        body: bytes as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "image/png" },
        key: acme,
      });
      expect(up.status).toBe(202);
      expect(await waitIndexed("acme", "doomed.png", 40_000)).toBe("failed");
      const record = (await (await call("/v1/images/doomed.png", { key: acme })).json()) as {
        status: string;
        error: string;
      };
      expect(record.status).toBe("failed");
      expect(record.error).toMatch(/dead-lettered/);
      const failed = (await (await call("/v1/images?status=failed", { key: acme })).json()) as {
        images: { id: string }[];
      };
      expect(failed.images.map((i) => i.id)).toEqual(["doomed.png"]);
      expect(await (await call("/v1/images?status=failed", { key: other })).json()).toEqual({
        images: [],
        nextCursor: null,
      });
      await expectError(
        await call("/v1/images/doomed.png/retry", { method: "POST", key: other }),
        404,
        "not_found",
      );
    } finally {
      stack.extractor.transientFailures = 0;
    }
    // Replayed through the same app: re-enqueued on the Worker's Queue, indexed by the ingest function.
    const replay = await call("/v1/images/doomed.png/retry", { method: "POST", key: acme });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toEqual({ id: "doomed.png", status: "queued" });
    expect(await waitIndexed("acme", "doomed.png")).toBe("indexed");
    expect(await (await call("/v1/images/doomed.png", { key: acme })).json()).toMatchObject({
      status: "indexed",
      regionCount: 2,
    });
    await expectError(
      await call("/v1/images/doomed.png/retry", { method: "POST", key: acme }),
      409,
      "conflict",
    );
  }, 90_000);

  it("answers POST /v1/images {url} with 501 when URL_FETCH_ENABLED=false (the off switch)", async () => {
    const res = await call("/v1/images", {
      method: "POST",
      body: JSON.stringify({ url: "https://images.example.com/cat.png" }),
      headers: { "content-type": "application/json" },
      key: acme,
    });
    await expectError(res, 501, "not_implemented");
  });

  it("refuses missing, malformed and unknown API keys with 401", async () => {
    const missing = await expectError(await call("/v1/search?q=x"), 401, "unauthorized");
    expect(missing.error.message).toMatch(/API key/);
    await expectError(await call("/v1/search?q=x", { key: "not-a-key" }), 401, "unauthorized");
    await expectError(
      await call("/v1/search?q=x", { key: `rs_live_${"A".repeat(32)}` }),
      401,
      "unauthorized",
    );
  });

  it("refuses uploads over the byte limit with 413, with Content-Length and chunked; nothing is stored", async () => {
    const bucket = await stack.mf.getR2Bucket("IMAGES");
    const keys = async () => (await bucket.list({ prefix: "" })).objects.map((o) => o.key).sort();
    const before = await keys();
    const big = new Uint8Array(MAX_UPLOAD + 1);
    await expectError(
      await call("/v1/images", {
        method: "POST",
        body: big,
        headers: { "content-type": "image/png" },
        key: acme,
      }),
      413,
      "payload_too_large",
    );
    const chunks = [new Uint8Array(100_000), new Uint8Array(100_000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const chunked = await call("/v1/images", {
      method: "POST",
      body: stream,
      headers: { "content-type": "image/png" },
      key: acme,
      duplex: "half",
    } as RequestInit & { key: string });
    expect(chunked.headers.get("content-length")).not.toBe(String(MAX_UPLOAD + 1));
    await expectError(chunked, 413, "payload_too_large");
    expect(await keys()).toEqual(before);
  });

  it("KV holds API keys only as SHA-256 hashes: no key or value contains a key's bytes", async () => {
    const kv = await stack.mf.getKVNamespace("API_KEYS");
    const { keys } = await kv.list();
    expect(keys.length).toBeGreaterThanOrEqual(2);
    const dump = (
      await Promise.all(keys.map(async (k) => `${k.name}=${await kv.get(k.name)}`))
    ).join("\n");
    for (const key of [acme, other]) {
      expect(dump).not.toContain(key);
      expect(dump).not.toContain(key.slice("rs_test_".length));
      expect(dump).toContain(`apikey:${await hashApiKey(key)}`);
    }
  });

  it("keeps the internal object endpoint closed to unsigned callers", async () => {
    const res = await call("/internal/objects", {
      method: "POST",
      body: JSON.stringify({ op: "get", key: "images/acme/leaf.png" }),
    });
    await expectError(res, 401, "unauthorized");
  });

  it("rate-limits per API key with 429 and Retry-After", async () => {
    const key = await stack.addKey("busy");
    let limited: Response | undefined;
    for (let i = 0; i < RATE_LIMIT + 5 && !limited; i++) {
      const res = await call("/v1/images/none", { key });
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    expect(limited).toBeDefined();
    expect(limited!.headers.get("retry-after")).toBe("60");
    await expectError(limited!, 429, "rate_limited");
    // Another key is not affected.
    expect((await call("/v1/images/none", { key: other })).status).toBe(404);
  });
});
