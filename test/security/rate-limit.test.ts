/**
 * Limits item 6, the rate limit of the local server: a per-caller token bucket (src/lib/api/rate-limit.ts)
 * → 429 with Retry-After and the one error body, per tenant with API keys, per client address without.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TokenBuckets } from "../../src/lib/api/rate-limit.js";
import { parseEnv } from "../../src/node/server/env.js";
import { expectError } from "../api/harness.js";
import { FakeExtractor } from "../support/fakes.js";
import { listen } from "../support/listen.js";
import { startLocal } from "./local.js";

describe("TokenBuckets", () => {
  it("grants `burst` at once, then refills at perMinute; Retry-After is the whole seconds to the next token", () => {
    let t = 0;
    const b = new TokenBuckets({ perMinute: 6, burst: 3, now: () => t });
    expect([b.take("a"), b.take("a"), b.take("a")]).toEqual([0, 0, 0]);
    expect(b.take("a")).toBe(10); // 6/min = one token per 10 s
    t += 4_000;
    expect(b.take("a")).toBe(6);
    t += 6_000;
    expect(b.take("a")).toBe(0);
    expect(b.take("b")).toBe(0); // callers do not share buckets
    t += 3_600_000;
    expect([b.take("a"), b.take("a"), b.take("a"), b.take("a")]).toEqual([0, 0, 0, 10]); // never more than burst
  });

  it("forgets the least recently seen caller past maxCallers (memory bound), which then starts full", () => {
    const t = 0;
    const b = new TokenBuckets({ perMinute: 1, burst: 1, maxCallers: 2, now: () => t });
    expect(b.take("a")).toBe(0);
    expect(b.take("b")).toBe(0);
    expect(b.take("a")).toBeGreaterThan(0); // a is now the most recent
    expect(b.take("c")).toBe(0); // evicts b
    expect(b.take("a")).toBeGreaterThan(0);
    expect(b.take("b")).toBe(0);
  });

  it("refuses a non-positive rate", () => {
    expect(() => new TokenBuckets({ perMinute: 0 })).toThrow(/perMinute/);
  });
});

describe("local server rate limit (RATE_LIMIT_PER_MINUTE) over a socket", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function start(env: Record<string, string>) {
    const local = await startLocal(new FakeExtractor(), env);
    const http = await listen(local.app);
    close = async () => {
      await http.close();
      await local.close();
    };
    return http.url;
  }

  it("is off by default", async () => {
    expect(parseEnv({}).RATE_LIMIT_PER_MINUTE).toBe(0);
    const url = await start({});
    for (let i = 0; i < 30; i++) expect((await fetch(`${url}/v1/images/none`)).status).toBe(404);
  });

  it("per client address without API keys: 429 + Retry-After + the one error body; /healthz is not limited", async () => {
    const url = await start({ RATE_LIMIT_PER_MINUTE: "3" });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/v1/images/none`)).status);
    expect(statuses).toEqual([404, 404, 404]);
    const limited = await fetch(`${url}/v1/search?q=x`);
    expect(limited.headers.get("retry-after")).toBe("20");
    const err = await expectError(limited, 429, "rate_limited");
    expect(err.message).toMatch(/3 requests per minute/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("per tenant with API keys: one tenant's flood does not limit another; RATE_LIMIT_BURST sets the bucket", async () => {
    const url = await start({
      RATE_LIMIT_PER_MINUTE: "60",
      RATE_LIMIT_BURST: "2",
      API_KEYS: "ka:alice,kb:bob",
    });
    const get = (key: string) =>
      fetch(`${url}/v1/images/none`, { headers: { authorization: `Bearer ${key}` } });
    expect([(await get("ka")).status, (await get("ka")).status]).toEqual([404, 404]);
    const limited = await get("ka");
    expect(limited.headers.get("retry-after")).toBe("1");
    await expectError(limited, 429, "rate_limited");
    expect((await get("kb")).status).toBe(404);
    // An unknown key is refused before the limiter (401), and costs no tenant a token.
    expect((await get("nope")).status).toBe(401);
  });

  it("refuses bad values naming the variable", () => {
    expect(() => parseEnv({ RATE_LIMIT_PER_MINUTE: "-1" })).toThrow(/RATE_LIMIT_PER_MINUTE/);
    expect(() => parseEnv({ RATE_LIMIT_BURST: "0" })).toThrow(/RATE_LIMIT_BURST/);
  });
});
