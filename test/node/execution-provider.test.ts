/**
 * ORT_EXECUTION_PROVIDER=cuda: sessions run on CUDA where onnxruntime-node can load it, and
 * otherwise fall back to the CPU with exactly one process warning. Which branch runs depends on
 * the machine: a CPU-only machine (CI, this repo's dev boxes) checks the fallback; a machine with
 * the CUDA provider library checks that CUDA sessions run and nothing is reported.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cudaFallbackReason, createSession, ort } from "../../src/node/models/session.js";

const DECODER = "models/shapes-tiny/segmenter-decoder-batched.onnx";

/** Whether onnxruntime-node's CUDA provider library is installed beside its binding. */
function cudaProviderInstalled(): boolean {
  const pkg = path.dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
  const dir = path.join(pkg, "bin", "napi-v6", process.platform, process.arch);
  return existsSync(path.join(dir, "libonnxruntime_providers_cuda.so"));
}

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
afterEach(() => {
  process.off("warning", onWarning);
  warnings.length = 0;
});

async function runsDecoder(session: ort.InferenceSession): Promise<number[]> {
  const b = 1;
  const out = await session.run({
    image_embeddings: new ort.Tensor(
      "float32",
      new Float32Array(64 * 32 * 32).fill(0.1),
      [1, 64, 32, 32],
    ),
    point_coords: new ort.Tensor("float32", Float32Array.of(10, 10, 0, 0), [b, 2, 2]),
    point_labels: new ort.Tensor("float32", Float32Array.of(1, -1), [b, 2]),
    mask_input: new ort.Tensor("float32", new Float32Array(128 * 128), [b, 1, 128, 128]),
    has_mask_input: new ort.Tensor("float32", new Float32Array(1), [b]),
  });
  return [...out["iou_predictions"]!.dims];
}

describe("ORT_EXECUTION_PROVIDER", () => {
  it.runIf(!cudaProviderInstalled())(
    "cuda without the CUDA provider: every session runs on the CPU, one warning for the process",
    async () => {
      process.on("warning", onWarning);
      const a = await createSession(DECODER, { executionProvider: "cuda", intraOpNumThreads: 1 });
      const b = await createSession(DECODER, { executionProvider: "cuda", intraOpNumThreads: 1 });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(await runsDecoder(a)).toEqual(await runsDecoder(b));
      const ours = warnings.filter(
        (w) => (w as Error & { code?: string }).code === "REGION_SEARCH_CPU_FALLBACK",
      );
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).toMatch(/ORT_EXECUTION_PROVIDER=cuda.*CPU/);
      expect(cudaFallbackReason()).toMatch(/cuda|provider/i);
    },
  );

  it.runIf(cudaProviderInstalled())(
    "cuda with the CUDA provider: sessions run, no fallback",
    async () => {
      process.on("warning", onWarning);
      const s = await createSession(DECODER, { executionProvider: "cuda" });
      expect((await runsDecoder(s)).length).toBe(2);
      expect(cudaFallbackReason()).toBeUndefined();
      expect(warnings).toHaveLength(0);
    },
  );

  it("cpu (the default) never probes CUDA", async () => {
    process.on("warning", onWarning);
    await runsDecoder(await createSession(DECODER, { intraOpNumThreads: 1 }));
    expect(warnings).toHaveLength(0);
  });
});
