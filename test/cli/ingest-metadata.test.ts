/**
 * `region-search ingest --metadata / --metadata-from`: every upload is named after its file and
 * carries its metadata; a re-run with new metadata patches the indexed images instead of re-uploading.
 */
import { serve, type ServerType } from "@hono/node-server";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { CliIo } from "../../src/node/cli/io.js";
import { runCli } from "../../src/node/cli/program.js";
import { makeHarness, pngBytes, type Harness } from "../api/harness.js";

let h: Harness;
let http: ServerType;
let url: string;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rs-cli-meta-"));
  h = await makeHarness();
  await new Promise<void>((resolve) => {
    http = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      url = `http://127.0.0.1:${info.port}`;
      resolve();
    });
  });
});
afterEach(async () => {
  await new Promise<void>((r) => http.close(() => r()));
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  let out = "";
  let err = "";
  const io: CliIo = { env: {}, out: (t) => (out += t), err: (t) => (err += t), isTTY: false };
  const code = await runCli(["--url", url, ...args], io);
  return { code, out, err };
}

async function record(file: string) {
  const id = (await h.catalog.list("default")).find((r) => r.name === file)?.id;
  return id ? h.catalog.get("default", id) : null;
}

it("names uploads after their files and sends --metadata merged with --metadata-from", async () => {
  for (const [name, rgb] of [
    ["a.png", [1, 2, 3]],
    ["b.png", [4, 5, 6]],
  ] as const) {
    const bytes = await pngBytes(20, 10, [...rgb]);
    h.extractor.setLabels(bytes, ["thing"]);
    await writeFile(path.join(dir, name), bytes);
  }
  await writeFile(
    path.join(dir, "meta.json"),
    JSON.stringify({ "b.png": { sku: "B-2", shop: "paris" } }),
  );
  const res = await cli([
    "ingest",
    path.join(dir, "a.png"),
    path.join(dir, "b.png"),
    "--metadata",
    '{"shop":"berlin"}',
    "--metadata-from",
    path.join(dir, "meta.json"),
  ]);
  expect(res.code, res.err).toBe(0);
  expect((await record("a.png"))?.metadata).toEqual({ shop: "berlin" });
  expect((await record("b.png"))?.metadata).toEqual({ shop: "paris", sku: "B-2" });
  const calls = h.extractor.calls;

  const again = await cli(["ingest", path.join(dir, "a.png"), "--metadata", '{"shop":"rome"}']);
  expect(again.out).toMatch(/skipped\s+1/);
  expect((await record("a.png"))?.metadata).toEqual({ shop: "rome" });
  expect(h.extractor.calls).toBe(calls); // patched, not re-indexed
});

it("refuses bad flags before uploading anything", async () => {
  const bytes = await pngBytes(20, 10, [7, 7, 7]);
  await writeFile(path.join(dir, "c.png"), bytes);
  const notJson = await cli(["ingest", path.join(dir, "c.png"), "--metadata", "{nope"]);
  expect(notJson.code).not.toBe(0);
  expect(notJson.err).toMatch(/--metadata is not valid JSON/);
  const missing = await cli([
    "ingest",
    path.join(dir, "c.png"),
    "--metadata-from",
    path.join(dir, "none.json"),
  ]);
  expect(missing.err).toMatch(/--metadata-from: cannot read/);
  const badKey = await cli(["ingest", path.join(dir, "c.png"), "--metadata", '{"bad key":1}']);
  expect(badKey.code).toBe(1);
  expect(badKey.out).toMatch(/metadata/);
  expect(await h.catalog.list("default")).toEqual([]);
});
