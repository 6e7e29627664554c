/**
 * onnxruntime-node sessions: created once per model at pack load and reused for every call, and
 * checked against the manifest's tensor specs using the metadata ORT exposes.
 */
import * as ort from "onnxruntime-node";
import type { ModelSpec, TensorSpec } from "./manifest.js";

export interface SessionOptions {
  /** Threads inside one operator (default 0 = ORT's choice, one per physical core). */
  intraOpNumThreads?: number;
  /** Threads across operators; only used when `parallelExecution` is on (default 1). */
  interOpNumThreads?: number;
  /** Run independent graph branches in parallel (default false: sequential wins on few cores). */
  parallelExecution?: boolean;
  /** Let idle intra-op threads busy-wait for the next op (onnxruntime's default; ours is false). */
  allowSpinning?: boolean;
  /**
   * Where models run (default "cpu"). "cuda" asks onnxruntime-node's CUDA execution provider (ops
   * it lacks still run on the CPU); where that provider cannot load (no GPU, no CUDA libraries, a
   * build without it) every session falls back to the CPU and the process gets ONE warning.
   */
  executionProvider?: ExecutionProvider;
}

export const EXECUTION_PROVIDERS = ["cpu", "cuda"] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** Why CUDA could not load in this process (set once; later sessions go straight to the CPU). */
let cudaUnavailable: string | undefined;

/** Why this process fell back from CUDA to the CPU, or undefined when it did not. */
export function cudaFallbackReason(): string | undefined {
  return cudaUnavailable;
}

/**
 * Create an inference session, graph optimisation "all", from the model's bytes or from its file
 * path. A model whose weights sit in ONNX external-data files needs the path: onnxruntime resolves
 * those files relative to the model file, which bytes alone do not tell it.
 */
export async function createSession(model: Uint8Array | string, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    executionMode: options.parallelExecution ? "parallel" : "sequential",
    intraOpNumThreads: options.intraOpNumThreads ?? 0,
    interOpNumThreads: options.interOpNumThreads ?? 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    // Each session has its own intra-op pool, whose threads busy-wait after a run by default. On
    // a machine with few cores that spinning takes the cores from our mask code and from the next
    // session's run (docs/decoder-speed.md: off, both got faster).
    extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? "1" : "0" } } },
  };
  if (options.executionProvider === "cuda" && cudaUnavailable === undefined) {
    try {
      // onnxruntime itself also logs the failed library load, on its own line, before ours.
      return await create(model, { ...sessionOptions, executionProviders: ["cuda", "cpu"] });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (!/cuda|provider/i.test(reason)) throw err;
      cudaUnavailable = reason;
      process.emitWarning(`ORT_EXECUTION_PROVIDER=cuda: onnxruntime-node cannot use CUDA here (${reason}); every model runs on the CPU`, { code: "REGION_SEARCH_CPU_FALLBACK" });
    }
  }
  return create(model, { ...sessionOptions, executionProviders: ["cpu"] });
}

function create(model: Uint8Array | string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof model === "string" ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/**
 * Problems between what a session really has and what the manifest says (empty when they agree).
 * Names must match both ways for inputs (a model input the manifest omits could never be fed);
 * manifest outputs must exist. dtypes must be equal; ranks must match where ORT knows the shape;
 * a fixed dim in both must be equal, and a dim the manifest calls dynamic must not be fixed.
 */
export function sessionMismatches(session: ort.InferenceSession, spec: ModelSpec): string[] {
  const problems: string[] = [];
  problems.push(...compareSide("input", session.inputMetadata, spec.inputs, true));
  problems.push(...compareSide("output", session.outputMetadata, spec.outputs, false));
  return problems;
}

function compareSide(
  side: "input" | "output",
  actual: readonly ort.InferenceSession.ValueMetadata[],
  expected: readonly TensorSpec[],
  bothWays: boolean,
): string[] {
  const problems: string[] = [];
  const has = actual.map((m) => m.name).join(", ");
  for (const want of expected) {
    const got = actual.find((m) => m.name === want.name);
    if (!got) {
      problems.push(`${side} "${want.name}" missing (has: ${has})`);
      continue;
    }
    if (!got.isTensor) {
      problems.push(`${side} "${want.name}" is not a tensor`);
      continue;
    }
    problems.push(...compareTensor(side, want, got));
  }
  if (bothWays) {
    for (const m of actual) {
      if (!expected.some((e) => e.name === m.name)) problems.push(`${side} "${m.name}" is not in the manifest`);
    }
  }
  return problems;
}

function compareTensor(side: string, want: TensorSpec, got: ort.InferenceSession.TensorValueMetadata): string[] {
  const problems: string[] = [];
  if (got.type !== want.dtype) problems.push(`${side} "${want.name}" has dtype ${got.type}, manifest says ${want.dtype}`);
  if (got.shape.length === 0) return problems; // ORT does not know the shape: nothing more to check
  const shape = `[${got.shape.join(", ")}]`;
  if (got.shape.length !== want.shape.length) {
    problems.push(`${side} "${want.name}" has rank ${got.shape.length} ${shape}, manifest says rank ${want.shape.length} [${want.shape.join(", ")}]`);
    return problems;
  }
  want.shape.forEach((w, i) => {
    const g = got.shape[i];
    if (typeof g !== "number" || g < 0) return; // dynamic in the model: accepts whatever the manifest fixes
    if (typeof w === "number" && w !== g) problems.push(`${side} "${want.name}" dim ${i} is ${g}, manifest says ${w} (model ${shape})`);
    if (typeof w === "string") problems.push(`${side} "${want.name}" dim ${i} is fixed at ${g}, manifest says dynamic "${w}" (model ${shape})`);
  });
  return problems;
}

/** Run a session and return the named outputs as float32 arrays with their dims. */
export async function runFloat(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  outputs: readonly string[],
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const result = await session.run(feeds, outputs as string[]);
  const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
  for (const name of outputs) {
    const t = result[name];
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`model output "${name}" missing or not float32`);
    out[name] = { data: t.data, dims: t.dims };
  }
  return out;
}

export { ort };
