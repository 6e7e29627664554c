/**
 * This machine's practical matmul peak through onnxruntime-node: the denominator of model-FLOP
 * utilisation. A one-node MatMul graph per size (infra/models/bench/matmul_model.py: a constant
 * square weight, pre-packed by onnxruntime like the models' weights) is timed on square float32
 * products with the same thread settings the pipeline uses; the best size wins.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { pythonBin } from "../setup/shapes-fixtures.js";

export interface MatmulPeak {
  gflops: number;
  bestSize: number;
  bySize: Record<string, number>;
}

function randomTensor(rows: number, cols: number): ort.Tensor {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.random() - 0.5;
  return new ort.Tensor("float32", data, [rows, cols]);
}

async function timeSize(session: ort.InferenceSession, n: number, minMs: number): Promise<number> {
  const feeds = { a: randomTensor(n, n) };
  await session.run(feeds); // warm-up: thread pool, allocator, weight pre-packing
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    await session.run(feeds);
    runs++;
  }
  const seconds = (performance.now() - start) / 1000;
  return (2 * n ** 3 * runs) / seconds / 1e9;
}

async function matmulSession(
  dir: string,
  n: number,
  intraOpThreads: number,
): Promise<ort.InferenceSession> {
  const file = path.join(dir, `matmul-${n}.onnx`);
  execFileSync(pythonBin(), ["-m", "bench.matmul_model", file, String(n)], {
    cwd: path.resolve("infra/models"),
  });
  return ort.InferenceSession.create(file, {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
}

export async function measureMatmulPeak(
  intraOpThreads: number,
  sizes = [256, 512, 1024, 2048],
  minMs = 1500,
): Promise<MatmulPeak> {
  const dir = mkdtempSync(path.join(tmpdir(), "matmul-"));
  const bySize: Record<string, number> = {};
  for (const n of sizes) {
    const session = await matmulSession(dir, n, intraOpThreads);
    bySize[String(n)] = await timeSize(session, n, minMs);
    await session.release();
  }
  rmSync(dir, { recursive: true, force: true });
  const [bestSize, gflops] = Object.entries(bySize).reduce((a, b) => (b[1] > a[1] ? b : a));
  return { gflops, bestSize: Number(bestSize), bySize };
}

/** The MatMul micro-benchmark at one size, kept open so it can be re-measured next to each model. */
export interface MatmulProbe {
  /** GFLOP/s over at least `minMs`. */
  measure(minMs: number): Promise<number>;
  release(): Promise<void>;
}

export async function openMatmulProbe(intraOpThreads: number, size: number): Promise<MatmulProbe> {
  const dir = mkdtempSync(path.join(tmpdir(), "matmul-"));
  const session = await matmulSession(dir, size, intraOpThreads);
  return {
    measure: (minMs) => timeSize(session, size, minMs),
    release: async () => {
      await session.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
