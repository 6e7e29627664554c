/**
 * The Workers URL fetcher (src/edge/url-fetcher.ts) runs on `fetch`, which exists in Node too, so it
 * is tested here with `fetch` stubbed and a fake resolver: it must ask for manual redirects, re-check
 * every Location, refuse private literals, and refuse names whose answers are not all public — before
 * fetching them. (The real DNS-over-HTTPS resolver is exercised in workerd: gateway-intake.test.ts.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEdgeUrlFetcher } from "../../src/edge/url-fetcher.js";
import { ApiError } from "../../src/lib/errors.js";
import { DEFAULT_URL_FETCH } from "../../src/lib/limits.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** images.example.com is public; private.example.com and mixed.example.com have a private answer. */
const ANSWERS: Record<string, string[]> = {
  "images.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
  "private.example.com": ["10.1.2.3"],
  "mixed.example.com": ["93.184.215.14", "fd00::1"],
};
const resolved: string[] = [];
const fetcher = createEdgeUrlFetcher(DEFAULT_URL_FETCH, async (host) => {
  resolved.push(host);
  return ANSWERS[host] ?? [];
});

function stubFetch(answer: (url: string) => Response) {
  const calls: Array<{ url: string; redirect?: string }> = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    calls.push({ url, redirect: init.redirect });
    return answer(url);
  });
  return calls;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e instanceof ApiError ? e.code : String(e)),
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  resolved.length = 0;
});

describe("Workers URL fetcher", () => {
  it("fetches with redirect: manual and follows a redirect to another public URL", async () => {
    const calls = stubFetch((url) => (url.endsWith("/a") ? new Response(null, { status: 302, headers: { location: "/b.png" } }) : new Response(PNG)));
    expect(await fetcher.fetchBytes("https://images.example.com/a", { maxBytes: 100 })).toEqual(PNG);
    expect(calls).toEqual([
      { url: "https://images.example.com/a", redirect: "manual" },
      { url: "https://images.example.com/b.png", redirect: "manual" },
    ]);
  });

  it("refuses private literals up front and in redirects, without fetching them", async () => {
    const calls = stubFetch(() => new Response(null, { status: 301, headers: { location: "http://0xa9fea9fe/latest/meta-data/" } }));
    expect(await codeOf(fetcher.fetchBytes("http://127.1/", { maxBytes: 100 }))).toBe("url_not_allowed");
    expect(await codeOf(fetcher.fetchBytes("http://[::ffff:10.0.0.1]/", { maxBytes: 100 }))).toBe("url_not_allowed");
    expect(calls).toEqual([]);
    expect(await codeOf(fetcher.fetchBytes("https://images.example.com/x", { maxBytes: 100 }))).toBe("url_not_allowed");
    expect(calls.map((c) => c.url)).toEqual(["https://images.example.com/x"]);
  });

  it("refuses a name with any private answer, first or after a redirect, without fetching it", async () => {
    const calls = stubFetch(() => new Response(null, { status: 302, headers: { location: "https://private.example.com/x.png" } }));
    expect(await codeOf(fetcher.fetchBytes("https://private.example.com/a.png", { maxBytes: 100 }))).toBe("url_not_allowed");
    expect(await codeOf(fetcher.fetchBytes("https://mixed.example.com/a.png", { maxBytes: 100 }))).toBe("url_not_allowed");
    expect(calls).toEqual([]);
    expect(await codeOf(fetcher.fetchBytes("https://images.example.com/r", { maxBytes: 100 }))).toBe("url_not_allowed");
    expect(calls.map((c) => c.url)).toEqual(["https://images.example.com/r"]);
    expect(resolved).toEqual(["private.example.com", "mixed.example.com", "images.example.com", "private.example.com"]);
  });

  it("caps the body while it streams, whatever Content-Length says", async () => {
    stubFetch(() => new Response(new Blob([new Uint8Array(300)]).stream()));
    expect(await codeOf(fetcher.fetchBytes("https://images.example.com/big", { maxBytes: 200 }))).toBe("payload_too_large");
  });
});
