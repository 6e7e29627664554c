/**
 * Over-limit uploads at the local server over a real socket (`@hono/node-server`), issue 8 item 3:
 * a declared Content-Length over the limit is refused before the body is read, and a chunked body
 * with no Content-Length is cut off at the limit — the 413 arrives while the client is still
 * sending a 100 MB stream — and nothing is stored. (The gateway's side: test/edge/gateway.test.ts.)
 */
import { request } from "node:http";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/lib/limits.js";
import { FakeExtractor } from "../support/fakes.js";
import { listen } from "../support/listen.js";
import { startLocal, type Local } from "./local.js";

const MB = 1024 * 1024;
let local: Local;
let http: Awaited<ReturnType<typeof listen>>;
beforeEach(async () => {
  local = await startLocal(new FakeExtractor());
  http = await listen(local.app);
});
afterEach(async () => {
  await http.close();
  await local.close();
});

interface Sent {
  status: number;
  body: { error?: { code: string; message: string; requestId: string } };
  /** Body bytes the client had written when the answer's head arrived. */
  sentAtResponse: number;
}

/**
 * Streams up to `total` bytes (PNG signature first) to `path` in 64 KiB chunks, honouring
 * back-pressure, and stops writing as soon as the response starts.
 */
function stream(path: string, total: number, headers: Record<string, string>): Promise<Sent> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024);
    chunk.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const req = request(`${http.url}${path}`, { method: "POST", headers });
    req.on("response", (res) => {
      answered = true;
      const sentAtResponse = sent;
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => {
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString("utf8")),
          sentAtResponse,
        });
        req.destroy();
      });
    });
    // The server may close the connection once it has answered: only an error before the answer counts.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

async function nothingStored() {
  expect(await local.services.catalog.list("default")).toEqual([]);
  expect(await local.vectors.count("default")).toBe(0);
  // No file at all outside the vector store's folder: no blob, record, or half-written temporary.
  const entries = await readdir(local.dataDir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(local.dataDir, path.join(e.parentPath, e.name)));
  expect(files.filter((f) => !f.startsWith(`vectors${path.sep}`))).toEqual([]);
}

describe("upload body limits over a socket", () => {
  it("a 100 MB chunked body without Content-Length is cut off at the limit: 413 before the client has sent it all", async () => {
    const res = await stream("/v1/images?wait=true", 100 * MB, {
      "content-type": "image/png",
      "transfer-encoding": "chunked",
    });
    expect(res.status).toBe(413);
    expect(res.body.error?.code).toBe("payload_too_large");
    expect(res.body.error?.message).toMatch(new RegExp(String(DEFAULT_LIMITS.maxUploadBytes)));
    expect(res.sentAtResponse).toBeGreaterThan(DEFAULT_LIMITS.maxUploadBytes);
    expect(res.sentAtResponse).toBeLessThan(DEFAULT_LIMITS.maxUploadBytes + 16 * MB);
    await nothingStored();
  });

  it("a declared Content-Length over the limit is refused before the body is read", async () => {
    const res = await stream("/v1/images", 100 * MB, {
      "content-type": "image/png",
      "content-length": String(100 * MB),
    });
    expect(res.status).toBe(413);
    expect(res.body.error?.code).toBe("payload_too_large");
    expect(res.sentAtResponse).toBeLessThan(8 * MB);
    await nothingStored();
  });

  it("multipart uploads are capped the same way", async () => {
    const res = await stream("/v1/images", 100 * MB, {
      "content-type": "multipart/form-data; boundary=x",
      "transfer-encoding": "chunked",
    });
    expect(res.status).toBe(413);
    expect(res.sentAtResponse).toBeLessThan(DEFAULT_LIMITS.maxUploadBytes + 16 * MB);
    await nothingStored();
  });

  it("a chunked JSON search body over 64 KiB → 413 naming the cap", async () => {
    const res = await stream("/v1/search", 10 * MB, {
      "content-type": "application/json",
      "transfer-encoding": "chunked",
    });
    expect(res.status).toBe(413);
    expect(res.body.error?.message).toMatch(/65536 bytes/);
    expect(res.sentAtResponse).toBeLessThan(8 * MB);
  });

  it("the server keeps serving afterwards", async () => {
    await stream("/v1/images", 30 * MB, {
      "content-type": "image/png",
      "transfer-encoding": "chunked",
    });
    expect((await fetch(`${http.url}/healthz`)).status).toBe(200);
  });
});
