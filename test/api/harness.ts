/**
 * In-process API harness: the real app, catalog, blob store, job queue, ingest and renderer over a
 * temporary DATA_DIR, with fake models and (by default) the in-memory vector store.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { expect } from "vitest";
import { createApp, type AppOptions } from "../../src/lib/api/app.js";
import { processIngestJob } from "../../src/lib/ingest.js";
import type { ExampleEmbedder, Services, UrlFetcher } from "../../src/lib/services.js";
import type { VectorStore } from "../../src/lib/store/types.js";
import { DiskBlobStore } from "../../src/node/blobs/disk-blobs.js";
import { FileCatalog } from "../../src/node/catalog/file-catalog.js";
import { InProcessJobQueue, type JobEvent } from "../../src/node/jobs/in-process-queue.js";
import { SharpRenderer } from "../../src/node/render/sharp-renderer.js";
import { FakeExtractor, FakeTextEmbedder } from "../support/fakes.js";
import { ihdrRgb8, pngChunk, pngFile } from "../support/png.js";
import { MemoryVectorStore } from "../store/memory-store.js";

export interface HarnessOptions extends AppOptions {
  vectors?: VectorStore;
  maxAttempts?: number;
  backoffMs?: number;
  urlFetcher?: UrlFetcher;
  examples?: ExampleEmbedder;
}

export async function makeHarness(options: HarnessOptions = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "rs-api-"));
  const catalog = new FileCatalog(dataDir);
  const blobs = new DiskBlobStore(dataDir);
  const vectors: VectorStore = options.vectors ?? new MemoryVectorStore();
  const extractor = new FakeExtractor();
  const text = new FakeTextEmbedder();
  const events: JobEvent[] = [];
  const jobs = new InProcessJobQueue({
    handler: (job, attempt) =>
      processIngestJob({ catalog, blobs, vectors, extractor }, job, attempt),
    maxAttempts: options.maxAttempts ?? 3,
    backoffMs: options.backoffMs ?? 5,
    onEvent: (e) => events.push(e),
  });
  const services: Services = {
    catalog,
    blobs,
    vectors,
    jobs,
    text,
    renderer: new SharpRenderer(),
    ...(options.urlFetcher ? { urlFetcher: options.urlFetcher } : {}),
    ...(options.examples ? { examples: options.examples } : {}),
  };
  const app = createApp(services, options);
  const close = async () => {
    await jobs.close();
    await vectors.close?.();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { app, services, catalog, blobs, vectors, jobs, extractor, text, events, dataDir, close };
}

export type Harness = Awaited<ReturnType<typeof makeHarness>>;

/** A solid-colour PNG (distinct colours give distinct bytes, hence distinct content-hash ids). */
export async function pngBytes(
  width = 40,
  height = 30,
  rgb: [number, number, number] = [200, 30, 30],
): Promise<Uint8Array> {
  const buf = await sharp({
    create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  })
    .png()
    .toBuffer();
  return new Uint8Array(buf);
}

export async function jpegBytes(width = 40, height = 30): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background: "#3366cc" } })
      .jpeg()
      .toBuffer(),
  );
}

/** A PNG that is only a signature and an IHDR chunk declaring `width × height`. */
export function pngHeaderOnly(width: number, height: number): Uint8Array {
  const ihdr = ihdrRgb8(width, height);
  return new Uint8Array(pngFile([pngChunk("IHDR", ihdr)]));
}

export function upload(
  h: Harness,
  bytes: Uint8Array,
  opts: { query?: string; type?: string; headers?: Record<string, string> } = {},
) {
  return h.app.request(`/v1/images${opts.query ?? ""}`, {
    method: "POST",
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { "content-type": opts.type ?? "image/png", ...opts.headers },
  });
}

export function postJson(
  h: Harness,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return h.app.request(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Asserts the one error body and returns it. */
export async function expectError(res: Response, status: number, code?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  const body = (await res.json()) as {
    error: { code: string; message: string; requestId: string };
  };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "requestId"]);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  expect(body.error.requestId.length).toBeGreaterThan(0);
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}
