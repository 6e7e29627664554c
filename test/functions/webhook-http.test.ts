/**
 * Standard Webhooks through the functions' HTTP endpoints (not only `verify`): what a forged,
 * replayed, re-serialised or stale delivery gets, what a secret rotation accepts, and that a repeated
 * `webhook-id` has no second effect.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { EMBED_RPC_PATH } from "../../src/lib/remote/text.js";
import {
  generateSecret,
  sign,
  signedHeaders,
  verify,
} from "../../src/lib/webhooks/standard-webhooks.js";
import { expectError, pngBytes } from "../api/harness.js";
import { makeFunctions, SECRET } from "./helpers.js";

type Fns = Awaited<ReturnType<typeof makeFunctions>>;
let fns: Fns | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await fns?.close();
  fns = undefined;
});

const JOB = "http://ingest/v1/jobs/ingest";
const STORAGE = "http://ingest/v1/webhooks/storage";
const nowSec = () => Math.floor(Date.now() / 1000);

/** A POST whose body is `sent` but whose headers were signed over `signed` (same bytes unless tampering). */
async function post(
  url: string,
  signed: string,
  sent = signed,
  options: { secrets?: string[]; id?: string; timestamp?: number; drop?: string } = {},
) {
  const headers: Record<string, string> = {
    ...(await signedHeaders(options.secrets ?? [SECRET], signed, options)),
    "content-type": "application/json",
  };
  if (options.drop) delete headers[options.drop];
  return new Request(url, { method: "POST", body: sent, headers });
}

async function queuedImage(f: Fns, tenant: string, id: string) {
  const bytes = await pngBytes(40, 30);
  await f.blobs.put(tenant, id, bytes, "image/png");
  const now = new Date().toISOString();
  await f.catalog.put({
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

/** Answers 401 with the one error body and leaves the models and the store untouched. */
async function expectRefused(f: Fns, res: Response) {
  const err = await expectError(res, 401, "unauthorized");
  expect(err.message).toMatch(/Webhook signature refused/);
  expect(f.extractor.calls).toBe(0);
  expect(await f.vectors.count("acme")).toBe(0);
}

describe("signed function endpoints over HTTP", () => {
  const body = JSON.stringify({ tenant: "acme", imageId: "img1" });

  it("accepts a valid signature (200) and indexes", async () => {
    fns = await makeFunctions();
    await queuedImage(fns, "acme", "img1");
    const res = await fns.ingest.request(await post(JOB, body));
    expect(res.status).toBe(200);
    expect(await fns.vectors.count("acme")).toBe(3);
  });

  it("tampered body → 401 on every signed route, nothing runs", async () => {
    fns = await makeFunctions();
    await queuedImage(fns, "acme", "img1");
    await expectRefused(
      fns,
      await fns.ingest.request(await post(JOB, body, body.replace("img1", "img2"))),
    );
    const s3 = JSON.stringify({ Records: [] });
    await expectRefused(
      fns,
      await fns.ingest.request(await post(STORAGE, s3, s3.replace("[]", "[ ]"))),
    );
    const embed = JSON.stringify({ text: "cat" });
    await expectError(
      await fns.query.request(
        await post(`http://query${EMBED_RPC_PATH}`, embed, JSON.stringify({ text: "dog" })),
      ),
      401,
      "unauthorized",
    );
    expect(fns.text.calls).toBe(0);
  });

  it("re-serialised JSON (the same object, other bytes) → 401: the signature covers bytes, not meaning", async () => {
    fns = await makeFunctions();
    await queuedImage(fns, "acme", "img1");
    const reserialised = [
      JSON.stringify(JSON.parse(body), null, 2),
      JSON.stringify({ imageId: "img1", tenant: "acme" }),
      `${body}\n`,
    ];
    for (const sent of reserialised) {
      expect(JSON.parse(sent)).toEqual(JSON.parse(body));
      await expectRefused(fns, await fns.ingest.request(await post(JOB, body, sent)));
    }
  });

  it("wrong secret → 401", async () => {
    fns = await makeFunctions();
    await queuedImage(fns, "acme", "img1");
    await expectRefused(
      fns,
      await fns.ingest.request(await post(JOB, body, body, { secrets: [generateSecret()] })),
    );
  });

  it("timestamps more than 5 minutes off (past or future) → 401; inside the window → 200", async () => {
    fns = await makeFunctions();
    await queuedImage(fns, "acme", "img1");
    for (const offset of [-301, 301, -3600, 86_400]) {
      await expectRefused(
        fns,
        await fns.ingest.request(await post(JOB, body, body, { timestamp: nowSec() + offset })),
      );
    }
    expect(
      (await fns.ingest.request(await post(JOB, body, body, { timestamp: nowSec() - 290 }))).status,
    ).toBe(200);
  });

  it("each missing header → 401", async () => {
    fns = await makeFunctions();
    await queuedImage(fns, "acme", "img1");
    for (const drop of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      await expectRefused(fns, await fns.ingest.request(await post(JOB, body, body, { drop })));
    }
    await expectRefused(fns, await fns.ingest.request(new Request(JOB, { method: "POST", body })));
  });

  it("secret rotation: a receiver with [new, old] accepts either; two signatures in one header are accepted", async () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    fns = await makeFunctions(undefined, [newSecret, oldSecret]);
    await queuedImage(fns, "acme", "a");
    await queuedImage(fns, "acme", "b");
    const a = JSON.stringify({ tenant: "acme", imageId: "a" });
    expect((await fns.ingest.request(await post(JOB, a, a, { secrets: [oldSecret] }))).status).toBe(
      200,
    );
    // A sender mid-rotation signs with both secrets; the header carries both signatures.
    const b = JSON.stringify({ tenant: "acme", imageId: "b" });
    const ts = nowSec();
    const both = `${await sign(generateSecret(), "msg_b", ts, b)} ${await sign(newSecret, "msg_b", ts, b)}`;
    const res = await fns.ingest.request(
      new Request(JOB, {
        method: "POST",
        body: b,
        headers: {
          "webhook-id": "msg_b",
          "webhook-timestamp": String(ts),
          "webhook-signature": both,
        },
      }),
    );
    expect(res.status).toBe(200);
    expect((await fns.catalog.get("acme", "b"))?.status).toBe("indexed");
  });

  it("the same webhook-id twice → 2xx both times, the second with no effect (job and storage routes)", async () => {
    fns = await makeFunctions();
    await queuedImage(fns, "acme", "img1");
    const first = await fns.ingest.request(await post(JOB, body, body, { id: "msg_dup" }));
    const rec = await fns.catalog.get("acme", "img1");
    const second = await fns.ingest.request(await post(JOB, body, body, { id: "msg_dup" }));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await second.json()).toMatchObject({ replayed: true });
    expect(fns.extractor.calls).toBe(1);
    expect(await fns.catalog.get("acme", "img1")).toEqual(rec);

    await fns.blobs.put("acme", "s.png", await pngBytes(20, 20), "image/png");
    const event = JSON.stringify({
      account: "a",
      bucket: "b",
      action: "PutObject",
      object: { key: "images/acme/s.png" },
      eventTime: "2026-01-01T00:00:00Z",
    });
    const r1 = await fns.ingest.request(await post(STORAGE, event, event, { id: "msg_s" }));
    const points = await fns.vectors.listImage("acme", "s.png");
    const r2 = await fns.ingest.request(await post(STORAGE, event, event, { id: "msg_s" }));
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect(fns.extractor.calls).toBe(2);
    expect(await fns.vectors.listImage("acme", "s.png")).toEqual(points);
  });
});

describe("constant-time comparison", () => {
  const body = "{}";
  const ts = 1_750_000_000;

  it("MACs are compared only by crypto.subtle.verify (HMAC), once per secret × presented signature", async () => {
    const spy = vi.spyOn(crypto.subtle, "verify");
    const secrets = [generateSecret(), generateSecret()];
    const good = await sign(secrets[1]!, "m", ts, body);
    // Flip the first and the last MAC byte: a short-circuiting string compare would differ in work.
    const mac = Buffer.from(good.slice(3), "base64");
    const flipped = (i: number) => {
      const m = Buffer.from(mac);
      m[i]! ^= 1;
      return `v1,${m.toString("base64")}`;
    };
    const headers = {
      "webhook-id": "m",
      "webhook-timestamp": String(ts),
      "webhook-signature": `${flipped(0)} ${flipped(mac.length - 1)}`,
    };
    await expect(verify(secrets, headers, body, { now: ts })).rejects.toThrow(/No matching/);
    expect(spy).toHaveBeenCalledTimes(4);
    for (const call of spy.mock.calls) expect(call[0]).toBe("HMAC");
    spy.mockClear();
    await expect(
      verify(secrets, { ...headers, "webhook-signature": good }, body, { now: ts }),
    ).resolves.toEqual({ id: "m", timestamp: ts });
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it("crypto.subtle.verify (the primitive) accepts the exact MAC and refuses any one-bit change", async () => {
    const key = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(32).fill(7),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    const data = new TextEncoder().encode("m.1.{}");
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
    expect(await crypto.subtle.verify("HMAC", key, mac, data)).toBe(true);
    for (const i of [0, 15, 31]) {
      const bad = mac.slice();
      bad[i]! ^= 0x80;
      expect(await crypto.subtle.verify("HMAC", key, bad, data)).toBe(false);
    }
    expect(await crypto.subtle.verify("HMAC", key, mac.subarray(0, 31), data)).toBe(false);
  });
});
