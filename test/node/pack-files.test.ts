import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestFile } from "../../src/node/models/pack-files.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "digest-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("digestFile (streamed sha256)", () => {
  it("gives the whole-buffer sha256 and size of a file read in several chunks, content only when kept", async () => {
    const bytes = Uint8Array.from({ length: (3 << 20) + 12345 }, (_, i) => (i * 2654435761) >>> 24); // > 3 stream chunks
    const file = path.join(dir, "big.bin");
    await writeFile(file, bytes);
    const want = createHash("sha256").update(bytes).digest("hex");
    const hashed = await digestFile(file);
    expect(hashed).toEqual({ bytes: bytes.length, sha256: want });
    const kept = await digestFile(file, true);
    expect(kept.sha256).toBe(want);
    expect(Buffer.compare(Buffer.from(kept.content!), Buffer.from(bytes))).toBe(0);
  });

  it("handles an empty file and reports a missing one with its code", async () => {
    const empty = path.join(dir, "empty");
    await writeFile(empty, new Uint8Array(0));
    const d = await digestFile(empty, true);
    expect([d.bytes, d.sha256, d.content?.length]).toEqual([
      0,
      createHash("sha256").digest("hex"),
      0,
    ]);
    await expect(digestFile(path.join(dir, "nope"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
