import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebhookVerificationError } from "../../../src/lib/webhooks/errors.js";
import {
  generateSecret,
  sign,
  signedHeaders,
  verify,
} from "../../../src/lib/webhooks/standard-webhooks.js";

// Test vector of the Standard Webhooks reference libraries.
const REF = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

const body = JSON.stringify({ tenant: "acme", imageId: "cat.png" });
const now = 1_750_000_000;

async function reason(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookVerificationError);
  return (err as WebhookVerificationError).reason;
}

describe("Standard Webhooks", () => {
  it("matches the reference test vector", async () => {
    expect(await sign(REF.secret, REF.id, REF.timestamp, REF.body)).toBe(REF.signature);
    const headers = {
      "webhook-id": REF.id,
      "webhook-timestamp": String(REF.timestamp),
      "webhook-signature": REF.signature,
    };
    await expect(verify([REF.secret], headers, REF.body, { now: REF.timestamp })).resolves.toEqual({
      id: REF.id,
      timestamp: REF.timestamp,
    });
  });

  it("agrees with node:crypto HMAC-SHA256 over id.timestamp.body", async () => {
    const secret = generateSecret();
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    const expected = createHmac("sha256", key).update(`m1.${now}.${body}`).digest("base64");
    expect(await sign(secret, "m1", now, body)).toBe(`v1,${expected}`);
  });

  it("verifies a valid signature", async () => {
    const secret = generateSecret();
    const headers = await signedHeaders([secret], body, { id: "msg_1", timestamp: now });
    await expect(verify([secret], new Headers(headers), body, { now: now + 10 })).resolves.toEqual({
      id: "msg_1",
      timestamp: now,
    });
  });

  it("refuses a tampered body", async () => {
    const secret = generateSecret();
    const headers = await signedHeaders([secret], body, { timestamp: now });
    expect(await reason(verify([secret], headers, body.replace("acme", "evil"), { now }))).toBe(
      "bad_signature",
    );
  });

  it("refuses a signature made with another secret", async () => {
    const headers = await signedHeaders([generateSecret()], body, { timestamp: now });
    expect(await reason(verify([generateSecret()], headers, body, { now }))).toBe("bad_signature");
  });

  it("refuses timestamps outside ±5 minutes, accepts the edges", async () => {
    const secret = generateSecret();
    const old = await signedHeaders([secret], body, { timestamp: now - 301 });
    const future = await signedHeaders([secret], body, { timestamp: now + 301 });
    const edge = await signedHeaders([secret], body, { timestamp: now - 300 });
    expect(await reason(verify([secret], old, body, { now }))).toBe("bad_timestamp");
    expect(await reason(verify([secret], future, body, { now }))).toBe("bad_timestamp");
    await expect(verify([secret], edge, body, { now })).resolves.toBeTruthy();
    const junk = { ...edge, "webhook-timestamp": "12e3" };
    expect(await reason(verify([secret], junk, body, { now }))).toBe("bad_timestamp");
  });

  it("refuses missing headers", async () => {
    const secret = generateSecret();
    const headers = await signedHeaders([secret], body, { timestamp: now });
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const partial = { ...headers, [name]: undefined };
      expect(await reason(verify([secret], partial, body, { now }))).toBe("missing_headers");
    }
  });

  it("accepts any of several signatures and any of several secrets (rotation)", async () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    // The sender signs with both secrets during rotation; the receiver knows only one of them.
    const sigOld = await sign(oldSecret, "msg_r", now, body);
    const sigNew = await sign(newSecret, "msg_r", now, body);
    const headers = {
      "webhook-id": "msg_r",
      "webhook-timestamp": String(now),
      "webhook-signature": `v1,bm90LWEtbWFj ${sigOld} ${sigNew}`,
    };
    await expect(verify([newSecret], headers, body, { now })).resolves.toBeTruthy();
    await expect(verify([oldSecret], headers, body, { now })).resolves.toBeTruthy();
    // The receiver knows both secrets while senders move over.
    const onlyOld = await signedHeaders([oldSecret], body, { timestamp: now });
    await expect(verify([newSecret, oldSecret], onlyOld, body, { now })).resolves.toBeTruthy();
    expect(await reason(verify([generateSecret()], headers, body, { now }))).toBe("bad_signature");
  });

  it("ignores signature versions it does not know", async () => {
    const secret = generateSecret();
    const good = await sign(secret, "m", now, body);
    const headers = {
      "webhook-id": "m",
      "webhook-timestamp": String(now),
      "webhook-signature": good.replace("v1,", "v1a,"),
    };
    expect(await reason(verify([secret], headers, body, { now }))).toBe("bad_signature");
  });

  it("rejects malformed secrets", async () => {
    await expect(sign("whsec_!!", "m", now, body)).rejects.toThrow(/base64/);
    await expect(sign("whsec_c2hvcnQ=", "m", now, body)).rejects.toThrow(/16 bytes/);
  });
});
