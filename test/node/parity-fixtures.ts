/** Parity fixtures written by infra/models (meta.json + raw little-endian tensors), read as ORT tensors. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { ort } from "../../src/node/models/session.js";

export interface TensorFile {
  name: string;
  dtype: "float32" | "int64" | "int32";
  shape: number[];
  file: string;
}
export interface FixtureMeta {
  model: string;
  inputs: TensorFile[];
  outputs: TensorFile[];
  tolerance: number;
}

export function readMeta(dir: string): FixtureMeta {
  return JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8")) as FixtureMeta;
}

export function readTensor(dir: string, t: TensorFile): ort.Tensor {
  const bytes = readFileSync(path.join(dir, t.file));
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const data =
    t.dtype === "float32"
      ? new Float32Array(buf)
      : t.dtype === "int64"
        ? new BigInt64Array(buf)
        : new Int32Array(buf);
  if (data.length !== count)
    throw new Error(`${t.file}: ${data.length} values, shape [${t.shape}] needs ${count}`);
  return new ort.Tensor(t.dtype, data, t.shape);
}

/** Largest |a − b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
