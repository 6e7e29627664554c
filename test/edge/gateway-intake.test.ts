/**
 * The gateway's intake on workerd (docs/gateway-intake.md): uploads pass the integrity check
 * (src/lib/integrity) before anything reaches R2, and — with URL_FETCH_ENABLED=true — images by URL
 * pass the literal checks and a DNS-over-HTTPS resolution check on every hop. The Worker's outbound
 * fetches all land in `internet` below: a fake 1.1.1.1 JSON resolver and a fake image host; calls to
 * the loopback Node functions are forwarded.
 */
import fc from "fast-check";
import { fetch as mfFetch, Response as MfResponse, type Request as MfRequest } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOH_URL } from "../../src/edge/doh-resolver.js";
import { probeImage } from "../../src/lib/api/upload.js";
import { ApiError } from "../../src/lib/errors.js";
import { DEFAULT_LIMITS } from "../../src/lib/limits.js";
import { verifyImageIntegrity } from "../../src/lib/integrity/index.js";
import { pngBytes } from "../api/harness.js";
import { damagedImages, intactImages, type Sample } from "../support/bad-images.js";
import { mutatedImage } from "../support/mutations.js";
import { blackPng } from "../support/png.js";
import { startStack, type Stack } from "./worker.js";

const MAX_UPLOAD = 2 * 1024 * 1024;
let stack: Stack;
let key: string;
let damaged: Sample[];
let intact: Sample[];
let catPng: Uint8Array;

/** name → [A answers, AAAA answers], or a DNS status (3 = NXDOMAIN), or "fail" (the resolver answers 500). */
const DNS: Record<string, [string[], string[]] | number | "fail"> = {
  "images.example.test": [["93.184.215.14"], ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"]],
  "private.example.test": [["10.0.0.7"], []],
  "mixed.example.test": [["93.184.215.14"], ["fd00::1"]],
  "metadata.example.test": [["169.254.169.254"], []],
  "nowhere.example.test": 3,
  "broken-dns.example.test": "fail",
};
const dohQueries: string[] = [];
/** Every URL the Worker fetched that was neither the resolver nor a loopback function. */
const fetched: string[] = [];

function resolver(url: URL): MfResponse {
  const [name, type] = [url.searchParams.get("name")!, Number(url.searchParams.get("type"))];
  dohQueries.push(`${name}/${type}`);
  const entry = DNS[name] ?? 3;
  if (entry === "fail") return new MfResponse("resolver down", { status: 500 });
  if (typeof entry === "number") return MfResponse.json({ Status: entry });
  const answers = type === 1 ? entry[0] : entry[1];
  return MfResponse.json({ Status: 0, Answer: answers.map((data) => ({ name: `${name}.`, type, TTL: 60, data })) });
}

/** `total` zero bytes in 64 KiB chunks, without a Content-Length (finite, so nothing runs on after the test). */
function chunked(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += 65_536;
      controller.enqueue(new Uint8Array(65_536));
    },
  });
}

function imageHost(url: URL): MfResponse {
  const routes: Record<string, () => MfResponse> = {
    "/cat.png": () => new MfResponse(catPng),
    "/cut.jpg": () => new MfResponse(damaged.find((s) => s.name === "JPEG cut at 90 %")!.bytes),
    "/to-private": () => new MfResponse(null, { status: 302, headers: { location: "http://private.example.test/x.png" } }),
    "/to-metadata": () => new MfResponse(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } }),
    "/unbounded": () => new MfResponse(chunked(2 * MAX_UPLOAD)),
  };
  return routes[url.pathname]?.() ?? new MfResponse("not found", { status: 404 });
}

async function internet(request: MfRequest): Promise<MfResponse> {
  const url = new URL(request.url);
  if (url.hostname === "127.0.0.1") return mfFetch(request);
  if (url.href.startsWith(DOH_URL)) return resolver(url);
  fetched.push(url.href);
  return url.hostname === "images.example.test" ? imageHost(url) : new MfResponse("unreachable", { status: 502 });
}

beforeAll(async () => {
  [damaged, intact, catPng] = await Promise.all([damagedImages(), intactImages(), pngBytes(32, 24, [200, 30, 30])]);
  stack = await startStack({ maxUploadBytes: MAX_UPLOAD, rateLimit: 1000, vars: { URL_FETCH_ENABLED: "true" }, outbound: internet });
  key = await stack.addKey("acme");
}, 120_000);
afterAll(() => stack?.close());

const post = (query: string, body: BodyInit, type: string) =>
  stack.mf.dispatchFetch(`http://gateway/v1/images${query}`, { method: "POST", body, headers: { "content-type": type, authorization: `Bearer ${key}` } } as never) as unknown as Promise<Response>;
const postUrl = (url: string, query = "") => post(query, JSON.stringify({ url }), "application/json");

async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
  expect({ status: res.status, keys: Object.keys(body), code: body.error.code }, body.error.message).toEqual({ status, keys: ["error"], code });
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body.error.message;
}

/** Waits for the record's ingest to settle (read from R2, so polling costs no rate-limit tokens). */
async function settled(id: string): Promise<string | undefined> {
  const bucket = await stack.mf.getR2Bucket("IMAGES");
  for (let i = 0; i < 300; i++) {
    const status = ((await (await bucket.get(`catalog/acme/${id}.json`))?.json()) as { status: string } | undefined)?.status;
    if (status === "indexed" || status === "failed") return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

async function r2Snapshot(): Promise<Record<string, string>> {
  const bucket = await stack.mf.getR2Bucket("IMAGES");
  const { objects } = await bucket.list({ prefix: "" });
  return Object.fromEntries(objects.map((o) => [o.key, o.etag]));
}

/** R2 once every ingest queued by earlier tests has settled (their records change until then). */
async function settledSnapshot(): Promise<Record<string, string>> {
  const bucket = await stack.mf.getR2Bucket("IMAGES");
  const { objects } = await bucket.list({ prefix: "catalog/acme/" });
  for (const o of objects) expect(await settled(o.key.slice("catalog/acme/".length, -".json".length)), o.key).toMatch(/^(indexed|failed)$/);
  return r2Snapshot();
}

describe("uploads on the gateway: the integrity check before R2", () => {
  it("refuses every damaged sample of the shared corpus with 422 invalid_image; R2 is untouched, an image stored under the same id too", async () => {
    const kept = await post("?id=keep.png", catPng as Uint8Array<ArrayBuffer>, "image/png");
    expect(kept.status).toBe(202);
    expect(await settled("keep.png")).toBe("indexed");
    const before = await settledSnapshot();
    for (const s of damaged) {
      for (const query of ["", "?id=keep.png"]) {
        const message = await expectError(await post(query, s.bytes as Uint8Array<ArrayBuffer>, s.type), 422, "invalid_image");
        expect(message, s.name).toMatch(/damaged|header could not be read/);
      }
    }
    expect(await r2Snapshot()).toEqual(before);
  });

  it("accepts every intact encoder variant and shapes fixture", async () => {
    for (const s of intact) expect((await post("", s.bytes as Uint8Array<ArrayBuffer>, s.type)).status, s.name).toBe(202);
  });

  it("checks a 40-megapixel PNG inside the Worker (120 MB inflated and dropped), and refuses it cut short", async () => {
    const png = new Uint8Array(await blackPng(6400, 6250));
    expect(png.length).toBeLessThan(MAX_UPLOAD);
    expect((await post("?id=big.png", png, "image/png")).status).toBe(202);
    await expectError(await post("?id=big-cut.png", png.subarray(0, png.length - 5000), "image/png"), 422, "invalid_image");
  });

  it("agrees with the same check run in Node on mutated images (workerd's DecompressionStream behaves alike)", async () => {
    const seeds = intact.filter((s) => !s.name.startsWith("shapes fixture")).map((s) => s.bytes);
    const expected = async (bytes: Uint8Array) => {
      if (bytes.length === 0) return 400;
      try {
        probeImage(bytes, DEFAULT_LIMITS);
        await verifyImageIntegrity(bytes);
        return 202;
      } catch (err) {
        return (err as ApiError).status;
      }
    };
    const statuses: number[] = [];
    for (const bytes of fc.sample(mutatedImage(seeds, 2), { numRuns: 60, seed: 20261201 })) {
      const res = await post("", bytes as Uint8Array<ArrayBuffer>, "image/png");
      await res.body?.cancel();
      expect(res.status).toBe(await expected(bytes));
      statuses.push(res.status);
    }
    expect(statuses).toContain(422);
    expect(statuses).toContain(202);
  });
});

describe("images by URL on the gateway (URL_FETCH_ENABLED=true)", () => {
  it("fetches a public name after resolving it over DNS-over-HTTPS, stores its bytes and indexes it", async () => {
    const res = await postUrl("https://images.example.test/cat.png", "?id=cat.png");
    expect(res.status, await res.clone().text()).toBe(202);
    expect(dohQueries).toEqual(expect.arrayContaining(["images.example.test/1", "images.example.test/28"]));
    expect(fetched).toContain("https://images.example.test/cat.png");
    const blob = await (await stack.mf.getR2Bucket("IMAGES")).get("images/acme/cat.png");
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(catPng);
    expect(await settled("cat.png")).toBe("indexed");
  });

  it("refuses names with a private answer, redirects to them and private literals — before fetching them; nothing stored", async () => {
    const before = await settledSnapshot();
    for (const host of ["private.example.test", "mixed.example.test", "metadata.example.test"]) {
      expect(await expectError(await postUrl(`https://${host}/x.png`), 400, "url_not_allowed")).toMatch(/resolves to a private/);
    }
    await expectError(await postUrl("https://images.example.test/to-private"), 400, "url_not_allowed");
    await expectError(await postUrl("https://images.example.test/to-metadata"), 400, "url_not_allowed");
    const queries = dohQueries.length;
    await expectError(await postUrl("http://[::ffff:127.0.0.1]/"), 400, "url_not_allowed");
    await expectError(await postUrl("http://0x7f.1/"), 400, "url_not_allowed");
    expect(dohQueries.length).toBe(queries); // literals are judged without a lookup
    expect(fetched.filter((u) => !u.startsWith("https://images.example.test/"))).toEqual([]);
    expect(await r2Snapshot()).toEqual(before);
  });

  it("fails closed when the name does not resolve or the resolver fails (422), caps a body without Content-Length (413), and checks fetched bytes (422)", async () => {
    const before = await settledSnapshot();
    expect(await expectError(await postUrl("https://nowhere.example.test/a.png"), 422, "url_fetch_failed")).toMatch(/does not resolve/);
    expect(await expectError(await postUrl("https://broken-dns.example.test/a.png"), 422, "url_fetch_failed")).toMatch(/could not be resolved/);
    expect(fetched.some((u) => /nowhere|broken-dns/.test(u))).toBe(false);
    await expectError(await postUrl("https://images.example.test/unbounded"), 413, "payload_too_large");
    await expectError(await postUrl("https://images.example.test/cut.jpg"), 422, "invalid_image");
    expect(await r2Snapshot()).toEqual(before);
  });
});
