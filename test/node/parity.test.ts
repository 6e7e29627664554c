/**
 * Numeric parity between the Python exporters and onnxruntime-node: every fixture folder in
 * test/fixtures/parity/<name>/ (meta.json + raw little-endian .bin tensors, written by
 * infra/models) is fed through the bundled pack's ONNX file and compared output by output.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createSession, ort } from "../../src/node/models/session.js";
import { PACK_DIR } from "./pack-helpers.js";
import { maxAbsDiff, readMeta, readTensor } from "./parity-fixtures.js";

const ROOT = path.resolve(import.meta.dirname, "../fixtures/parity");
const folders = existsSync(ROOT)
  ? readdirSync(ROOT)
      .filter((d) => existsSync(path.join(ROOT, d, "meta.json")))
      .sort()
  : [];

describe("ONNX parity fixtures", () => {
  it("exist (an empty fixture folder must not pass silently)", () => {
    expect(folders.length).toBeGreaterThan(0);
  });

  it.each(folders)("%s: onnxruntime-node matches the reference within tolerance", async (name) => {
    const dir = path.join(ROOT, name);
    const meta = readMeta(dir);
    expect(meta.outputs.length).toBeGreaterThan(0);
    const session = await createSession(readFileSync(path.join(PACK_DIR, meta.model)), {
      intraOpNumThreads: 1,
    });
    try {
      const feeds = Object.fromEntries(meta.inputs.map((t) => [t.name, readTensor(dir, t)]));
      const result = await session.run(
        feeds,
        meta.outputs.map((t) => t.name),
      );
      for (const want of meta.outputs) {
        const got = result[want.name];
        expect(got, `${name}: output ${want.name}`).toBeDefined();
        expect(Array.from(got!.dims), `${name}: ${want.name} shape`).toEqual(want.shape);
        const ref = readTensor(dir, want).data as Float32Array;
        const maxDiff = maxAbsDiff(got!.data as Float32Array, ref);
        expect(maxDiff, `${name}: ${want.name} max abs diff`).toBeLessThanOrEqual(meta.tolerance);
      }
    } finally {
      await session.release();
    }
  });
});

describe("batched decoder: prompts without a mask prompt", () => {
  it("decode as the reference says when no row of the call has one (the graph skips its mask branch)", async () => {
    const dir = path.join(ROOT, "segmenter-decoder-batched");
    const meta = readMeta(dir);
    const input = Object.fromEntries(meta.inputs.map((t) => [t.name, readTensor(dir, t)]));
    const has = input["has_mask_input"]!.data as Float32Array;
    const rows = [...has.keys()].filter((i) => has[i] === 0);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(has.length); // the fixture's full call takes the other branch
    const pick = (t: ort.Tensor): ort.Tensor => {
      const per = t.data.length / t.dims[0]!;
      const out = new Float32Array(rows.length * per);
      rows.forEach((r, k) =>
        out.set((t.data as Float32Array).subarray(r * per, (r + 1) * per), k * per),
      );
      return new ort.Tensor("float32", out, [rows.length, ...t.dims.slice(1)]);
    };
    const feeds = Object.fromEntries(
      Object.entries(input).map(([k, t]) => [k, k === "image_embeddings" ? t : pick(t)]),
    );
    const session = await createSession(readFileSync(path.join(PACK_DIR, meta.model)), {
      intraOpNumThreads: 1,
    });
    try {
      const result = await session.run(feeds);
      for (const want of meta.outputs) {
        const ref = pick(readTensor(dir, want));
        expect(Array.from(result[want.name]!.dims)).toEqual(Array.from(ref.dims));
        expect(
          maxAbsDiff(result[want.name]!.data as Float32Array, ref.data as Float32Array),
          want.name,
        ).toBeLessThanOrEqual(meta.tolerance);
      }
    } finally {
      await session.release();
    }
  });
});
