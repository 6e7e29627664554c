/**
 * Tenant isolation (issue 8 item 5), property-based: thousands of random operations by random
 * tenants against the local server as `npm start` builds it (API_KEYS parsed from the environment, one key given as its hash,
 * disk catalog and blobs, LanceDB), with a fast fake extractor. A model of who owns what is kept
 * alongside; every answer must agree with it: nothing of another tenant is ever returned, and
 * another tenant's ids are always 404, never 403. Then the data directory is searched for the keys.
 */
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, pngBytes } from "../api/harness.js";
import { FakeExtractor } from "../support/fakes.js";
import { startLocal, type Local } from "./local.js";

const TENANTS = ["alice", "bob", "carol"] as const;
type Tenant = (typeof TENANTS)[number];
const KEYS = Object.fromEntries(
  TENANTS.map((t) => [t, `rs_${t}_${randomBytes(18).toString("base64url")}`]),
) as Record<Tenant, string>;
const IDS = ["img-0", "img-1", "img-2", "img-3"];

let local: Local;
const extractor = new FakeExtractor();
/** tenant → image id → the bytes it uploaded last. */
const images = new Map<Tenant, Map<string, Uint8Array>>(TENANTS.map((t) => [t, new Map()]));
/** Every region id ever seen → who it belongs to (it may since have been deleted). */
const regions = new Map<string, { tenant: Tenant; imageId: string }>();
let colour = 0;
let operations = 0;

beforeAll(async () => {
  // Bob's key is configured as its SHA-256 only, the others in plain text: both forms resolve.
  const configured = (t: Tenant) =>
    t === "bob" ? `sha256:${createHash("sha256").update(KEYS[t]).digest("hex")}` : KEYS[t];
  local = await startLocal(extractor, {
    API_KEYS: TENANTS.map((t) => `${configured(t)}:${t}`).join(","),
  });
});
afterAll(() => local?.close());

const call = (tenant: Tenant, url: string, init: RequestInit = {}) => {
  operations++;
  return local.app.request(url, {
    ...init,
    headers: {
      ...(init.headers as Record<string, string>),
      authorization: `Bearer ${KEYS[tenant]}`,
    },
  });
};
const json = (body: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});
const live = (regionId: string) => {
  const owner = regions.get(regionId);
  return owner !== undefined && images.get(owner.tenant)!.has(owner.imageId) ? owner : undefined;
};

/** A 404 with the one error body, never 403. */
async function expectNotFound(res: Response) {
  expect(res.status).not.toBe(403);
  await expectError(res, 404, "not_found");
}

/** Every result must be a live region of `tenant`. */
function expectOwnResults(tenant: Tenant, results: { regionId: string; imageId: string }[]) {
  for (const r of results) {
    expect(live(r.regionId)?.tenant, `result ${r.regionId} for ${tenant}`).toBe(tenant);
    expect(images.get(tenant)!.has(r.imageId)).toBe(true);
  }
}

type Op =
  | { op: "upload" | "getImage" | "getRegions" | "getFile" | "delete"; tenant: Tenant; id: string }
  | { op: "search" | "searchGet"; tenant: Tenant; about: Tenant }
  | { op: "similar" | "getRegion" | "mask" | "preview"; tenant: Tenant; pick: number };

const tenant = fc.constantFrom(...TENANTS);
// Uploads are rare (an indexed write costs ~100× a read on LanceDB); reads are what could leak.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("upload" as const),
      tenant,
      id: fc.constantFrom(...IDS),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constantFrom("getImage" as const, "getRegions" as const, "getFile" as const),
      tenant,
      id: fc.constantFrom(...IDS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("delete" as const),
      tenant,
      id: fc.constantFrom(...IDS),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constantFrom("search" as const, "searchGet" as const),
      tenant,
      about: tenant,
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constantFrom(
        "similar" as const,
        "getRegion" as const,
        "mask" as const,
        "preview" as const,
      ),
      tenant,
      pick: fc.nat(),
    }),
  },
);

async function upload(t: Tenant, id: string) {
  const bytes = await pngBytes(12, 8, [colour % 256, (colour >> 8) % 256, 7]);
  colour++;
  // Labels name the owner, so a search for another tenant's words would find their regions if it could.
  extractor.setLabels(bytes, [`${t} secret left`, `${t} secret right`]);
  const res = await call(t, `/v1/images?id=${id}&wait=true`, {
    method: "POST",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "image/png" },
  });
  expect(res.status).toBe(201);
  images.get(t)!.set(id, bytes);
  const listed = (await (await call(t, `/v1/images/${id}/regions`)).json()) as {
    regions: { regionId: string; imageId: string }[];
  };
  for (const r of listed.regions) regions.set(r.regionId, { tenant: t, imageId: id });
  expectOwnResults(t, listed.regions);
}

async function byImageId(op: Extract<Op, { id: string }>) {
  const own = images.get(op.tenant)!.get(op.id);
  const suffix = { getImage: "", getRegions: "/regions", getFile: "/file", delete: "" }[
    op.op as "getImage"
  ];
  const res = await call(
    op.tenant,
    `/v1/images/${op.id}${suffix}`,
    op.op === "delete" ? { method: "DELETE" } : {},
  );
  if (!own) return expectNotFound(res);
  if (op.op === "delete") {
    expect(res.status).toBe(204);
    images.get(op.tenant)!.delete(op.id);
  } else if (op.op === "getFile") {
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(own);
  } else if (op.op === "getRegions") {
    expectOwnResults(
      op.tenant,
      ((await res.json()) as { regions: { regionId: string; imageId: string }[] }).regions,
    );
  } else {
    expect(await res.json()).toMatchObject({ id: op.id, status: "indexed", bytes: own.length });
  }
}

async function byRegionId(op: Extract<Op, { pick: number }>) {
  const known = [...regions.keys()];
  const regionId =
    known.length > 0 ? known[op.pick % known.length]! : "00000000-0000-5000-8000-000000000000";
  const owner = live(regionId);
  const res =
    op.op === "similar"
      ? await call(op.tenant, "/v1/search/similar", json({ regionId, limit: 20 }))
      : await call(
          op.tenant,
          `/v1/regions/${regionId}${{ getRegion: "", mask: "/mask.png", preview: "/preview.png" }[op.op]}`,
        );
  if (owner?.tenant !== op.tenant) return expectNotFound(res);
  expect(res.status).toBe(200);
  if (op.op === "similar")
    expectOwnResults(
      op.tenant,
      ((await res.json()) as { results: { regionId: string; imageId: string }[] }).results,
    );
  else if (op.op === "getRegion")
    expect(await res.json()).toMatchObject({ regionId, imageId: owner.imageId });
  else await res.body?.cancel();
}

async function search(op: Extract<Op, { about: Tenant }>) {
  const q = `${op.about} secret left right`;
  const res =
    op.op === "search"
      ? await call(op.tenant, "/v1/search", json({ query: q, limit: 100 }))
      : await call(op.tenant, `/v1/search?q=${encodeURIComponent(q)}&limit=100`);
  expect(res.status).toBe(200);
  const { results } = (await res.json()) as { results: { regionId: string; imageId: string }[] };
  expectOwnResults(op.tenant, results);
  // Complete as well as isolated: every region of the caller's own images is found.
  const own = [...regions.entries()].filter(([id, o]) => o.tenant === op.tenant && live(id)).length;
  expect(results).toHaveLength(own);
}

async function run(op: Op) {
  if (op.op === "upload") return upload(op.tenant, op.id);
  if ("id" in op) return byImageId(op);
  if ("about" in op) return search(op);
  return byRegionId(op);
}

describe("tenant isolation through the public API", () => {
  it("across thousands of random operations no tenant sees another's images, regions, masks or results; foreign ids are 404", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 60 }), async (ops) => {
        for (const op of ops) await run(op);
      }),
      { numRuns: 60, seed: Number(process.env.TENANT_SEED ?? 8), endOnFailure: true },
    );
    expect(operations).toBeGreaterThan(2000);
    expect(new Set([...regions.values()].map((r) => r.tenant)).size).toBe(3);
  }, 600_000);

  it("no key or an unknown key → 401, never another tenant's data", async () => {
    await expectError(await local.app.request("/v1/search?q=alice%20secret"), 401, "unauthorized");
    await expectError(
      await local.app.request("/v1/images/img-0", {
        headers: { authorization: `Bearer ${KEYS.alice}x` },
      }),
      401,
      "unauthorized",
    );
    await expectError(
      await local.app.request("/v1/images/img-0", {
        headers: { "x-api-key": KEYS.alice.slice(0, -1) },
      }),
      401,
      "unauthorized",
    );
  });

  it("a dump of the data directory (catalog, blobs, LanceDB files) holds no API key", async () => {
    for (const t of TENANTS) await upload(t, "dump");
    const files = (await readdir(local.dataDir, { recursive: true, withFileTypes: true })).filter(
      (e) => e.isFile(),
    );
    expect(files.some((f) => f.parentPath.includes(`${path.sep}vectors`))).toBe(true);
    expect(files.some((f) => f.parentPath.includes(`${path.sep}catalog`))).toBe(true);
    for (const f of files) {
      const bytes = await readFile(path.join(f.parentPath, f.name));
      for (const key of Object.values(KEYS)) {
        for (const form of [
          Buffer.from(key, "utf8"),
          Buffer.from(key, "utf16le"),
          Buffer.from(key.slice(-16), "utf8"),
        ]) {
          expect(bytes.includes(form), `${f.name} holds a key`).toBe(false);
        }
      }
    }
  });
});
