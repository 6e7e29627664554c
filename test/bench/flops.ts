/**
 * Model FLOPs counted from the ONNX graph itself, with the shapes the graph really produces.
 * infra/models/bench/flops.py writes the node list and an instrumented copy of the model whose node
 * outputs are all graph outputs; one run of that copy gives every tensor's shape.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { pythonBin } from "../setup/shapes-fixtures.js";

interface GraphNode {
  op: "MatMul" | "Gemm" | "Conv" | "ConvTranspose";
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: { transA?: number };
}
interface GraphJson {
  nodes: GraphNode[];
  initializers: Record<string, number[]>;
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** FLOPs of one node; 2 per multiply-accumulate. */
export function nodeFlops(node: GraphNode, shapeOf: (name: string) => readonly number[]): number {
  const out = shapeOf(node.outputs[0] ?? "");
  const a = shapeOf(node.inputs[0] ?? "");
  const w = shapeOf(node.inputs[1] ?? "");
  switch (node.op) {
    case "MatMul":
      return 2 * product(out) * (a[a.length - 1] ?? 0);
    case "Gemm":
      return 2 * product(out) * ((node.attrs.transA ? a[0] : a[a.length - 1]) ?? 0);
    case "Conv": // weight [Cout, Cin/groups, kh, kw]: one dot product of that length per output element
      return 2 * product(out) * product(w.slice(1));
    case "ConvTranspose": // weight [Cin, Cout/groups, kh, kw]: each input element scatters into that many outputs
      return 2 * product(a) * product(w.slice(1));
  }
}

/** Total FLOPs of `modelPath` run on `feeds`. */
export async function countModelFlops(
  modelPath: string,
  feeds: Record<string, ort.Tensor>,
): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), "flops-"));
  execFileSync(pythonBin(), ["-m", "bench.flops", path.resolve(modelPath), dir], {
    cwd: path.resolve("infra/models"),
    stdio: ["ignore", "ignore", "inherit"],
  });
  const graph = JSON.parse(readFileSync(path.join(dir, "graph.json"), "utf8")) as GraphJson;
  const session = await ort.InferenceSession.create(path.join(dir, "instrumented.onnx"));
  const results = await session.run(feeds);
  const shapeOf = (name: string): readonly number[] => {
    const init = graph.initializers[name];
    if (init) return init;
    const t = results[name] ?? feeds[name];
    if (!t) throw new Error(`flops: no shape for tensor ${name}`);
    return t.dims;
  };
  await session.release();
  return graph.nodes.reduce((sum, node) => sum + nodeFlops(node, shapeOf), 0);
}
