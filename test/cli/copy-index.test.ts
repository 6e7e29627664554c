/**
 * `region-search copy-index`: embedded (LanceDB) → Qdrant (fake) through the real program, resuming
 * from a checkpoint file, refusing bad input; and the standalone entry as users run it with tsx.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/node/cli/io.js";
import { runCli } from "../../src/node/cli/program.js";
import { LanceVectorStore } from "../../src/node/store/lance.js";
import { parseVectorStoreSpec } from "../../src/node/store/spec.js";
import { point, unit } from "../store/conformance.js";
import { FakeQdrant } from "../store/qdrant-fake.js";

let fake: FakeQdrant;
let dir: string;
let source: string;
/** Point ids of tenant "default" in id order (the copy's order). */
let ids: string[];

beforeAll(async () => {
  fake = await FakeQdrant.start({ apiKey: "qk" });
  dir = await mkdtemp(path.join(tmpdir(), "rs-copy-cli-"));
  source = path.join(dir, "vectors");
  const lance = await LanceVectorStore.open({ dir: source });
  const mine = [0, 1].flatMap((img) =>
    [-1, 0, 1, 2, 3].map((i) => point("default", `img${img}`, i, unit(1, i, img))),
  );
  await lance.upsert("default", mine);
  await lance.upsert("bob", [point("bob", "x", 0, unit(0, 1))]);
  await lance.close();
  ids = mine.map((p) => p.id).sort();
});
afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  let out = "";
  let err = "";
  const io: CliIo = {
    env: { QDRANT_API_KEY: "qk" },
    out: (t) => (out += t),
    err: (t) => (err += t),
    isTTY: false,
  };
  const code = await runCli(["copy-index", ...args], io);
  return { code, out, err };
}

describe("region-search copy-index", () => {
  it("copies the default tenant from the embedded store into a new Qdrant collection of the source's dimension", async () => {
    const r = await cli([
      "--from",
      `embedded:${source}`,
      "--to",
      `qdrant:${fake.url}/copied`,
      "--batch-size",
      "4",
    ]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain(
      `copied 10 points from embedded store ${source} to Qdrant collection "copied" at ${fake.url}`,
    );
    // A new target is set up as the server would: the collection `copied_v1` behind the alias `copied`.
    expect(fake.engine.aliases.get("copied")).toBe("copied_v1");
    const col = fake.engine.resolve("copied");
    expect(col.vectors.region!.size).toBe(8);
    expect([...col.points.keys()].sort()).toEqual(ids);

    const both = await cli([
      "--from",
      `embedded:${source}`,
      "--to",
      `qdrant:${fake.url}/copied`,
      "-t",
      "default",
      "-t",
      "bob",
      "--json",
    ]);
    expect(JSON.parse(both.out)).toEqual({ copied: 11, perTenant: { default: 10, bob: 1 } });
    expect(col.points.size).toBe(11);
  });

  it("resumes from its checkpoint file, removes it when done, and refuses one of another copy", async () => {
    const file = path.join(dir, "copy.json");
    const from = parseVectorStoreSpec(`embedded:${source}`);
    const to = parseVectorStoreSpec(`qdrant:${fake.url}/resumed`);
    await writeFile(
      file,
      JSON.stringify({
        from,
        to,
        tenants: ["default"],
        checkpoint: { tenant: "default", after: ids[6] },
      }),
    );
    const r = await cli([
      "--from",
      `embedded:${source}`,
      "--to",
      `qdrant:${fake.url}/resumed`,
      "--checkpoint",
      file,
      "--json",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).perTenant).toEqual({ default: 3 });
    expect([...fake.engine.resolve("resumed").points.keys()].sort()).toEqual(ids.slice(7));
    await expect(stat(file)).rejects.toThrow();

    await writeFile(
      file,
      JSON.stringify({
        from,
        to,
        tenants: ["someone-else"],
        checkpoint: { tenant: "someone-else" },
      }),
    );
    const other = await cli([
      "--from",
      `embedded:${source}`,
      "--to",
      `qdrant:${fake.url}/resumed`,
      "--checkpoint",
      file,
    ]);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/belongs to another copy/);
    expect(await readFile(file, "utf8")).toContain("someone-else");
  });

  it("refuses bad stores: unknown form, missing source directory, missing Qdrant source collection", async () => {
    const bad = await cli(["--from", "pinecone:x", "--to", `embedded:${dir}/t`]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/expected embedded:<dir> or qdrant:<url>\/<collection>/);
    const missing = await cli(["--from", `embedded:${dir}/nope`, "--to", `embedded:${dir}/t`]);
    expect(missing.err).toMatch(/the directory does not exist/);
    const before = fake.engine.collections.size;
    const noCollection = await cli([
      "--from",
      `qdrant:${fake.url}/ghost`,
      "--to",
      `embedded:${dir}/t`,
    ]);
    expect(noCollection.err).toMatch(/no Qdrant collection "ghost"/);
    expect(fake.engine.collections.size).toBe(before);
  });

  it("parses store specs, keeping a proxy prefix in the Qdrant URL", () => {
    expect(parseVectorStoreSpec("qdrant:https://q.example/qdrant/regions")).toEqual({
      kind: "qdrant",
      url: "https://q.example/qdrant",
      collection: "regions",
    });
    expect(parseVectorStoreSpec("qdrant:http://localhost:6333/regions")).toEqual({
      kind: "qdrant",
      url: "http://localhost:6333",
      collection: "regions",
    });
    expect(() => parseVectorStoreSpec("qdrant:http://localhost:6333")).toThrow(/no collection/);
    expect(parseVectorStoreSpec("embedded:rel/dir")).toEqual({
      kind: "embedded",
      dir: path.resolve("rel/dir"),
    });
  });

  it("runs on its own with tsx (Qdrant → embedded)", async () => {
    const target = path.join(dir, "standalone");
    const tsx = path.resolve("node_modules/.bin/tsx");
    // Asynchronously: the fake Qdrant answers from this very process.
    const { stdout: out } = await promisify(execFile)(
      tsx,
      [
        "src/node/cli/copy-index.ts",
        "--from",
        `qdrant:${fake.url}/copied`,
        "--to",
        `embedded:${target}`,
        "-t",
        "bob",
      ],
      {
        env: { ...process.env, QDRANT_API_KEY: "qk" },
        encoding: "utf8",
      },
    );
    expect(out).toContain("copied 1 points");
    const lance = await LanceVectorStore.open({ dir: target });
    expect(await lance.count("bob")).toBe(1);
    await lance.close();
  });
});
