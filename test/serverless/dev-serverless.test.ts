/**
 * `npm run dev:serverless` (issue 19, item 1) as a user runs it: one command brings up `wrangler dev`
 * and both functions with matching secrets, writes `.dev.vars` from the template, mints a key into
 * the local KV and prints it; an upload through the gateway is found by search; Ctrl-C (SIGINT)
 * stops every process, so no port stays open.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  parseDotVars,
  renderTemplate,
  writeDevVars,
} from "../../src/node/functions/dev-stack/dev-vars.js";
import { SHAPES_FIXTURE_DIR } from "../setup/shapes-fixtures.js";
import { readShapesSplit } from "../support/shapes.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const closed = (port: number) =>
  fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
    () => false,
    () => true,
  );

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe(".dev.vars from the committed template", () => {
  it("fills every placeholder, keeps the secret and the user's own lines across runs", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "rs-devvars-"));
    dirs.push(dir);
    const file = path.join(dir, ".dev.vars");
    const first = await writeDevVars(file, ".dev.vars.example", {
      ingestPort: 1,
      queryPort: 2,
      modelPackId: "p@1",
    });
    expect(first.get("WEBHOOK_SECRET")).toMatch(/^whsec_/);
    expect(first.get("INGEST_URL")).toBe("http://127.0.0.1:1");
    expect(first.get("QUERY_URL")).toBe("http://127.0.0.1:2");
    expect(first.get("MODEL_PACK_ID")).toBe("p@1");
    await writeFile(file, readFileSync(file, "utf8") + "URL_FETCH_ENABLED=false\n");
    const second = await writeDevVars(file, ".dev.vars.example", {
      ingestPort: 3,
      queryPort: 4,
      modelPackId: "p@1",
    });
    expect(second.get("WEBHOOK_SECRET")).toBe(first.get("WEBHOOK_SECRET"));
    expect(second.get("INGEST_URL")).toBe("http://127.0.0.1:3");
    expect(second.get("URL_FETCH_ENABLED")).toBe("false");
    expect(() => renderTemplate("{{NOPE}}", {})).toThrow(/NOPE/);
    expect(parseDotVars("# A=1\nB = 2\n")).toEqual(new Map([["B", "2"]]));
  });
});

describe("npm run dev:serverless", () => {
  it("starts the stack in one command, serves a search, and stops everything on Ctrl-C", async () => {
    const scene = readShapesSplit(SHAPES_FIXTURE_DIR, 2)[1]!;
    const dir = await mkdtemp(path.join(tmpdir(), "rs-devstack-"));
    dirs.push(dir);
    const ports = [await freePort(), await freePort(), await freePort()] as const;
    const proc = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "functions/dev-serverless.ts",
        "--port",
        String(ports[0]),
        "--ingest-port",
        String(ports[1]),
        "--query-port",
        String(ports[2]),
        "--state-dir",
        path.join(dir, "state"),
        "--vars-file",
        path.join(dir, ".dev.vars"),
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ORT_INTRA_OP_THREADS: "2" } },
    );
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    try {
      const until = Date.now() + 150_000;
      while (
        !/API key\s+(rs_test_\w{32})/.test(out) &&
        Date.now() < until &&
        proc.exitCode === null
      )
        await new Promise((r) => setTimeout(r, 200));
      const key = /API key\s+(rs_test_\w{32})/.exec(out)?.[1];
      expect(key, out.slice(-3000)).toBeDefined();
      const vars = parseDotVars(readFileSync(path.join(dir, ".dev.vars"), "utf8"));
      expect(vars.get("INGEST_URL")).toBe(`http://127.0.0.1:${ports[1]}`);

      const gateway = `http://127.0.0.1:${ports[0]}`;
      const auth = { authorization: `Bearer ${key}` };
      const up = await fetch(`${gateway}/v1/images?id=smoke&wait=true`, {
        method: "POST",
        body: readFileSync(scene.png),
        headers: { ...auth, "content-type": "image/png" },
      });
      expect(up.status).toBe(201);
      const res = await fetch(`${gateway}/v1/search`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ query: scene.objects[0]!.caption, imageIds: ["smoke"] }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { results: { imageId: string }[] }).results[0]?.imageId).toBe(
        "smoke",
      );
    } finally {
      proc.kill("SIGINT");
      expect(await exited).toBe(0);
    }
    for (const port of ports) expect(await closed(port), `port ${port}`).toBe(true);
  }, 240_000);
});
