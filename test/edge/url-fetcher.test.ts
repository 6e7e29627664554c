/**
 * The Workers URL fetcher (src/edge/url-fetcher.ts) runs on `fetch`, which exists in Node too, so it
 * is tested here with `fetch` stubbed: it must ask for manual redirects, re-check every Location, and
 * refuse private literals. A public-looking *name* is passed through unresolved — the documented gap
 * of the Workers fetcher (the Node fetcher resolves and pins).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEdgeUrlFetcher } from "../../src/edge/url-fetcher.js";
import { ApiError } from "../../src/lib/errors.js";
import { DEFAULT_URL_FETCH } from "../../src/lib/limits.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const fetcher = createEdgeUrlFetcher(DEFAULT_URL_FETCH);

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

  it("caps the body while it streams, whatever Content-Length says", async () => {
    stubFetch(() => new Response(new Blob([new Uint8Array(300)]).stream()));
    expect(await codeOf(fetcher.fetchBytes("https://images.example.com/big", { maxBytes: 200 }))).toBe("payload_too_large");
  });
});
