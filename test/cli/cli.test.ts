/**
 * The `region-search` CLI against a real HTTP server (the API app with fake models on a loopback
 * port): ingest with a summary and resume, search as table and JSON, API keys, help text, pack info,
 * the embedded mode on the bundled pack, and the bin shim as users run it.
 */
import { serve, type ServerType } from "@hono/node-server";
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mapPool } from "../../src/node/cli/ingest.js";
import type { CliIo } from "../../src/node/cli/io.js";
import { runCli } from "../../src/node/cli/program.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { makeHarness, pngBytes, type Harness } from "../api/harness.js";

let h: Harness;
let http: ServerType;
let url: string;
let dir: string;

async function start(options: Parameters<typeof makeHarness>[0] = {}): Promise<void> {
  h = await makeHarness(options);
  await new Promise<void>((resolve) => {
    http = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      url = `http://127.0.0.1:${info.port}`;
      resolve();
    });
  });
}

/** Runs the CLI in-process; returns exit code and what it printed. */
async function cli(args: string[], env: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const io: CliIo = { env, out: (t) => (out += t), err: (t) => (err += t), isTTY: false };
  const code = await runCli(args, io);
  return { code, out, err };
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rs-cli-"));
});
afterEach(async () => {
  if (http) await new Promise<void>((r) => http.close(() => r()));
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

async function writeImages(): Promise<void> {
  await mkdir(path.join(dir, "photos/nested"), { recursive: true });
  const images: [string, [number, number, number], string[]][] = [
    ["photos/red.png", [200, 30, 30], ["red apple", "blue sky"]],
    ["photos/green.png", [30, 200, 30], ["green frog", "brown log"]],
    ["photos/nested/blue.png", [30, 30, 200], ["blue whale", "grey rock", "white foam"]],
  ];
  for (const [file, rgb, labels] of images) {
    const bytes = await pngBytes(30, 12, rgb);
    h.extractor.setLabels(bytes, labels);
    await writeFile(path.join(dir, file), bytes);
  }
  await writeFile(path.join(dir, "photos/broken.png"), "not an image at all");
  await writeFile(path.join(dir, "photos/notes.txt"), "ignored: not an image extension");
}

describe("region-search ingest", () => {
  it("indexes a folder recursively, reports regions and failures, and resumes without re-uploading", async () => {
    await start();
    await writeImages();
    const first = await cli([
      "--url",
      url,
      "ingest",
      path.join(dir, "photos"),
      "--json",
      "-c",
      "2",
    ]);
    expect(first.code).toBe(1); // one file failed
    const { summary, outcomes } = JSON.parse(first.out) as {
      summary: Record<string, unknown>;
      outcomes: { file: string; state: string }[];
    };
    expect(summary).toMatchObject({ images: 4, indexed: 3, skipped: 0, failed: 1, regions: 7 });
    expect(summary.failures).toEqual([
      {
        file: path.join(dir, "photos/broken.png"),
        reason: expect.stringMatching(/not a PNG, JPEG or WebP/),
      },
    ]);
    expect(outcomes.map((o) => path.basename(o.file)).sort()).toEqual([
      "blue.png",
      "broken.png",
      "green.png",
      "red.png",
    ]);
    expect(h.extractor.calls).toBe(3);

    const again = await cli([
      "--url",
      url,
      "ingest",
      path.join(dir, "photos/*.png"),
      path.join(dir, "photos/nested"),
    ]);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/4 images in/);
    expect(again.out).toMatch(/skipped\s+3/);
    expect(again.out).toMatch(/regions\s+7/);
    expect(again.out).toMatch(/broken\.png: not a PNG/);
    expect(h.extractor.calls).toBe(3); // nothing re-extracted
  });

  it("reports a server-side failure with its reason, and an empty input as an error", async () => {
    await start({ maxAttempts: 1 });
    const bytes = await pngBytes(20, 20, [1, 2, 3]);
    h.extractor.invalid.add((await import("../support/fakes.js")).sha256(bytes));
    await writeFile(path.join(dir, "bad.png"), bytes);
    const res = await cli(["--url", url, "ingest", path.join(dir, "bad.png")]);
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/failed\s+1/);
    expect(res.out).toMatch(/bad\.png: invalid_image: corrupt image data/);
    const none = await cli(["--url", url, "ingest", path.join(dir, "nothing-*.png")]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no image files found/);
  });

  it("runs at most --concurrency files at once, results in input order", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapPool([5, 1, 4, 2, 3, 0], 2, async (ms) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, ms * 3));
      running--;
      return ms * 10;
    });
    expect(peak).toBe(2);
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
  });
});

describe("region-search search", () => {
  it("prints a table or the API's JSON", async () => {
    await start();
    await writeImages();
    await cli(["--url", url, "ingest", path.join(dir, "photos")]);
    const table = await cli(["--url", url, "search", "green frog", "--limit", "2"]);
    expect(table.code).toBe(0);
    const lines = table.out.trim().split("\n");
    expect(lines[0]).toMatch(/^#\s+score\s+image\s+region\s+bbox x,y,w,h\s+area$/);
    expect(lines[2]).toMatch(/^1\s+1\.000\s+[0-9a-f]{64}\s+[0-9a-f-]{36}\s+0,0,15,12\s+180$/);
    expect(lines.at(-1)).toMatch(/^2 results in [\d.]+ ms$/);
    const json = await cli(["--url", url, "search", "blue whale", "--json", "-g"]);
    const body = JSON.parse(json.out) as {
      results: { imageId: string; score: number; mask: { counts: string } }[];
    };
    expect(body.results[0]!.score).toBeCloseTo(1, 4);
    expect(new Set(body.results.map((r) => r.imageId)).size).toBe(body.results.length); // -g: one per image
  });

  it("sends the API key; without it the server's 401 is reported", async () => {
    await start({ apiKeys: { s3cret: "alice" } });
    const denied = await cli(["--url", url, "search", "anything"]);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/401 unauthorized/);
    expect((await cli(["--url", url, "--api-key", "s3cret", "search", "anything"])).code).toBe(0);
    expect(
      (
        await cli(["search", "anything"], {
          REGION_SEARCH_URL: url,
          REGION_SEARCH_API_KEY: "s3cret",
        })
      ).code,
    ).toBe(0);
  });

  it("says plainly when no server is listening", async () => {
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = serve(
        { fetch: () => new Response(), port: 0, hostname: "127.0.0.1" },
        (info: AddressInfo) => s.close(() => resolve(info.port)),
      );
    });
    const res = await cli(["--url", `http://127.0.0.1:${port}`, "search", "x"]);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(
      new RegExp(`cannot reach http://127.0.0.1:${port} \\(ECONNREFUSED\\): no server there`),
    );
  });
});

describe("help and packs", () => {
  it("every command has help text", async () => {
    const top = await cli(["--help"]);
    expect(top.code).toBe(0);
    for (const cmd of ["ingest", "search", "serve", "eval", "bench", "pack"])
      expect(top.out).toMatch(new RegExp(`^  ${cmd}\\b.*\\S`, "m"));
    for (const args of [
      ["ingest", "--help"],
      ["search", "--help"],
      ["serve", "--help"],
      ["eval", "--cli-help"],
      ["bench", "--cli-help"],
      ["pack", "info", "--help"],
    ]) {
      const res = await cli(args);
      expect(res.code, args.join(" ")).toBe(0);
      expect(res.out).toMatch(/^Usage: region-search /);
      expect(res.out.split("\n")[2]!.length, `${args.join(" ")} has a description`).toBeGreaterThan(
        20,
      );
    }
    const bad = await cli(["ingest"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/missing required argument/);
  });

  it("pack info validates and describes a pack; a broken one is refused naming the tensor", async () => {
    const ok = await cli(["pack", "info", "models/shapes-tiny", "--json"]);
    expect(ok.code).toBe(0);
    const info = JSON.parse(ok.out) as {
      id: string;
      files: unknown[];
      totalBytes: number;
      models: { role: string; inputs: { name: string }[] }[];
    };
    expect(info.id).toBe("shapes-tiny@1.1.0");
    expect(info.files.length).toBeGreaterThan(3);
    expect(info.totalBytes).toBeGreaterThan(1_000_000);
    expect(info.models.map((m) => m.role)).toEqual(
      expect.arrayContaining(["encoder", "batchedDecoder", "image", "text"]),
    );
    expect(info.models.find((m) => m.role === "image")!.inputs.map((t) => t.name)).toEqual([
      "image",
      "alpha",
    ]);
    const text = (await cli(["pack", "info", "models/shapes-tiny"])).out;
    expect(text).toMatch(/^shapes-tiny@1\.1\.0 .*valid/);
    expect(text).toMatch(
      /stored vectors 256-d: context 0\.35 \+ detail 0\.65 \(crop margin 0\.2\)/,
    );

    const broken = path.join(dir, "pack");
    await cp("models/shapes-tiny", broken, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(broken, "manifest.json"), "utf8"));
    manifest.embedder.text.inputs[0].name = "token_ids";
    await writeFile(path.join(broken, "manifest.json"), JSON.stringify(manifest));
    const refused = await cli(["pack", "info", broken]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/input "input_ids" missing/);
  });
});

describe("embedded mode and the bin shim", () => {
  it("--embedded ingests and searches the store in-process with the bundled pack", async () => {
    const env = { DATA_DIR: path.join(dir, "data"), ORT_INTRA_OP_THREADS: "2" };
    const scene = path.join(SHAPES_FIXTURE_DIR, "scene-000000.png");
    const ingested = await cli(["--embedded", "ingest", scene, "--json"], env);
    expect(ingested.code).toBe(0);
    const { summary } = JSON.parse(ingested.out) as {
      summary: { indexed: number; regions: number };
    };
    expect(summary.indexed).toBe(1);
    expect(summary.regions).toBeGreaterThan(0);
    const found = await cli(
      ["--embedded", "search", "a large dotted brown diamond", "--json", "-l", "3"],
      env,
    );
    expect(found.code).toBe(0);
    expect((JSON.parse(found.out) as { results: unknown[] }).results.length).toBeGreaterThan(0);
    expect((await cli(["--embedded", "ingest", scene], env)).out).toMatch(/skipped\s+1/);
  }, 120_000);

  it("`region-search` runs from the package bin", () => {
    const out = execFileSync(process.execPath, ["bin/region-search.js", "--help"], {
      encoding: "utf8",
    });
    expect(out).toMatch(/Usage: region-search/);
    expect(out).toMatch(/ingest \[options\] <inputs\.\.\.>/);
  }, 30_000);
});
