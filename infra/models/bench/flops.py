"""Prepare an ONNX graph for FLOP counting by `npm run bench`.

Static shape inference cannot resolve the data-dependent reshapes of attention graphs, so the count
uses the shapes the graph really produces: this script writes (1) `graph.json`, the node list (op,
inputs, outputs, the attributes that matter) and initializer dims, and (2) an instrumented copy of the
model whose every node output is also a graph output. The benchmark runs that copy once in
onnxruntime-node with the real input shapes and counts MatMul / Gemm / Conv / ConvTranspose work
(2 FLOPs per multiply-accumulate) in test/bench/flops.ts.

    /usr/bin/python3 -m bench.flops MODEL.onnx OUT_DIR
"""
import json
import os
import sys

import onnx
from onnx import helper

COUNTED = ("MatMul", "Gemm", "Conv", "ConvTranspose")


def _attrs(node: onnx.NodeProto) -> dict:
    keep = ("transA", "transB", "group")
    return {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name in keep}


def describe(model: onnx.ModelProto) -> dict:
    nodes = [
        {"op": n.op_type, "name": n.name, "inputs": list(n.input), "outputs": list(n.output), "attrs": _attrs(n)}
        for n in model.graph.node
        if n.op_type in COUNTED
    ]
    inits = {i.name: list(i.dims) for i in model.graph.initializer}
    return {"nodes": nodes, "initializers": inits}


def instrument(model: onnx.ModelProto, names: set[str]) -> onnx.ModelProto:
    existing = {o.name for o in model.graph.output}
    for name in sorted(names - existing):
        model.graph.output.append(helper.make_empty_tensor_value_info(name))
    return model


def main(path: str, out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    model = onnx.load(path)
    graph = describe(model)
    inits = set(graph["initializers"])
    wanted = {t for n in graph["nodes"] for t in n["inputs"] + n["outputs"] if t and t not in inits}
    wanted -= {i.name for i in model.graph.input}
    with open(os.path.join(out_dir, "graph.json"), "w") as f:
        json.dump(graph, f)
    onnx.save(instrument(model, wanted), os.path.join(out_dir, "instrumented.onnx"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
