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

interface TensorFile { name: string; dtype: "float32" | "int64" | "int32"; shape: number[]; file: string }
interface Meta { model: string; inputs: TensorFile[]; outputs: TensorFile[]; tolerance: number }

const ROOT = path.resolve(import.meta.dirname, "../fixtures/parity");
const folders = existsSync(ROOT) ? readdirSync(ROOT).filter((d) => existsSync(path.join(ROOT, d, "meta.json"))).sort() : [];

function readTensor(dir: string, t: TensorFile): ort.Tensor {
  const bytes = readFileSync(path.join(dir, t.file));
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const data = t.dtype === "float32" ? new Float32Array(buf) : t.dtype === "int64" ? new BigInt64Array(buf) : new Int32Array(buf);
  if (data.length !== count) throw new Error(`${t.file}: ${data.length} values, shape [${t.shape}] needs ${count}`);
  return new ort.Tensor(t.dtype, data, t.shape);
}

describe("ONNX parity fixtures", () => {
  it("exist (an empty fixture folder must not pass silently)", () => {
    expect(folders.length).toBeGreaterThan(0);
  });

  it.each(folders)("%s: onnxruntime-node matches the reference within tolerance", async (name) => {
    const dir = path.join(ROOT, name);
    const meta = JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8")) as Meta;
    expect(meta.outputs.length).toBeGreaterThan(0);
    const session = await createSession(readFileSync(path.join(PACK_DIR, meta.model)), { intraOpNumThreads: 1 });
    try {
      const feeds = Object.fromEntries(meta.inputs.map((t) => [t.name, readTensor(dir, t)]));
      const result = await session.run(feeds, meta.outputs.map((t) => t.name));
      for (const want of meta.outputs) {
        const got = result[want.name];
        expect(got, `${name}: output ${want.name}`).toBeDefined();
        expect(Array.from(got!.dims), `${name}: ${want.name} shape`).toEqual(want.shape);
        const ref = readTensor(dir, want).data as Float32Array;
        const actual = got!.data as Float32Array;
        let maxDiff = 0;
        for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - ref[i]!));
        expect(maxDiff, `${name}: ${want.name} max abs diff`).toBeLessThanOrEqual(meta.tolerance);
      }
    } finally {
      await session.release();
    }
  });
});
