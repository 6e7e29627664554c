/** The embedded default as `npm start` builds it (LanceDB, disk, in-process queue), with fake models. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildLocalServer, type LocalServerSettings } from "../../src/node/server/build.js";
import { parseEnv } from "../../src/node/server/env.js";
import { createLogger } from "../../src/node/logging.js";
import { FakeExtractor, FakeTextEmbedder } from "../support/fakes.js";
import { pngBytes } from "./harness.js";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "rs-local-"));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

const settings = (): LocalServerSettings => ({
  dataDir,
  limits: {},
  apiKeys: {},
  ingest: { concurrency: 1, maxAttempts: 2, backoffMs: 1 },
  vectorIndexThreshold: 50_000,
});
const log = createLogger("silent");

describe("local server (LanceDB)", () => {
  it("upload → search → regions → delete, and data survives a restart", async () => {
    const extractor = new FakeExtractor();
    const models = { extractor, text: new FakeTextEmbedder() };
    let server = await buildLocalServer(settings(), models, log);
    const bytes = await pngBytes(30, 10);
    extractor.setLabels(bytes, ["purple cat", "green dog"]);
    const created = await server.app.request("/v1/images?id=pets&wait=true", {
      method: "POST",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "image/png" },
    });
    expect(created.status).toBe(201);
    await server.close();

    server = await buildLocalServer(settings(), models, log);
    const res = await server.app.request("/v1/search?q=green%20dog&limit=1");
    const body = (await res.json()) as {
      results: { imageId: string; bbox: number[]; score: number }[];
    };
    expect(body.results).toEqual([
      expect.objectContaining({ imageId: "pets", bbox: [15, 0, 15, 10] }),
    ]);
    expect(body.results[0]!.score).toBeCloseTo(1, 4);
    expect((await server.app.request("/v1/images/pets", { method: "DELETE" })).status).toBe(204);
    expect(await server.vectors.count("default")).toBe(0);
    await server.close();
  });

  it("an image acknowledged (queued) before a crash is indexed after restart", async () => {
    const extractor = new FakeExtractor();
    let release!: () => void;
    extractor.gate = new Promise((r) => (release = r));
    const models = { extractor, text: new FakeTextEmbedder() };
    const first = await buildLocalServer(settings(), models, log);
    const bytes = await pngBytes();
    await first.app.request("/v1/images?id=late", {
      method: "POST",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "image/png" },
    });
    await first.app.request("/v1/images?id=later", {
      method: "POST",
      body: (await pngBytes(8, 8)) as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "image/png" },
    });
    // "Crash": stop the queue while the first job is held; the second is still queued.
    const closing = first.close();
    release();
    await closing;

    const second = await buildLocalServer(
      settings(),
      { extractor: new FakeExtractor(), text: new FakeTextEmbedder() },
      log,
    );
    await second.jobs.idle();
    for (const id of ["late", "later"]) {
      expect((await (await second.app.request(`/v1/images/${id}`)).json()).status).toBe("indexed");
    }
    await second.close();
  });
});

describe("environment", () => {
  it("defaults and parsing", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 8080,
      DATA_DIR: "./data",
      MODEL_PACK: "models/shapes-tiny",
      INGEST_CONCURRENCY: 2,
      API_KEYS: {},
      LOG_LEVEL: "info",
    });
    expect(parseEnv({ PORT: "9000", API_KEYS: "k1:alice, k2:bob" })).toMatchObject({
      PORT: 9000,
      API_KEYS: { k1: "alice", k2: "bob" },
    });
    const hex = "ab".repeat(32);
    expect(parseEnv({ API_KEYS: `sha256:${hex}:carol,k1:alice` }).API_KEYS).toEqual({
      [`sha256:${hex}`]: "carol",
      k1: "alice",
    });
  });

  it("invalid values are refused with the variable named", () => {
    expect(() => parseEnv({ PORT: "http" })).toThrow(/PORT/);
    expect(() => parseEnv({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
    expect(() => parseEnv({ API_KEYS: "nokey" })).toThrow(/API_KEYS/);
    expect(() => parseEnv({ API_KEYS: "sha256:abc:carol" })).toThrow(/API_KEYS.*sha256/s);
    expect(() => parseEnv({ API_KEYS: `sha256:${"AB".repeat(32)}:carol` })).toThrow(/API_KEYS/);
    expect(() => parseEnv({ API_KEYS: "a:b:carol" })).toThrow(/API_KEYS/);
  });
});
