"""Lower-precision variants of an exported ONNX graph; inputs and outputs stay float32.

    cd infra/models && /usr/bin/python3 -m export.onnx_weights int8 DIR/segmenter-*.onnx   # in place

- ``fp16``: every float32 weight is stored as float16 and cast back to float32 in the graph, so
  the file halves while the arithmetic stays float32 (onnxruntime's CPU kernels are float32;
  the Cast of a constant is folded once at session creation).
- ``int8``: every MatMul / Gemm with a constant weight becomes com.microsoft's
  ``DynamicQuantizeMatMul``: weights int8 symmetric per output column, activations quantised to
  uint8 per call by the kernel (onnxruntime's dynamic quantisation, run by its int8 GEMM).
  Products over fewer than ``MIN_INNER`` rows stay float32: they cost nothing, and one of them is
  SAM's prompt positional encoding (coordinates [.., 2] @ a [2, 128] Gaussian matrix, then sin/cos),
  where quantising the coordinates would move every point.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = "com.microsoft"
MIN_INNER = 16


def _initializers(graph) -> dict:
    return {init.name: init for init in graph.initializer}


def to_fp16_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    casts, kept = [], []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < 16:
            kept.append(init)  # scalars and shape-like constants stay as they are
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "__fp16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                      name=init.name + "__cast"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def quantise_columns(w: np.ndarray):
    """Symmetric int8 per column of ``w`` [K, N]: (int8 [K, N], scale float32 [N])."""
    scale = np.abs(w).max(axis=0) / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


def _weight_kn(node, inits):
    """The constant weight of a MatMul / Gemm as [K, N] float32, or None when it has none."""
    if node.op_type == "MatMul":
        b = inits.get(node.input[1])
        return None if b is None or len(b.dims) != 2 else numpy_helper.to_array(b)
    if node.op_type != "Gemm":
        return None
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    b = inits.get(node.input[1])
    if b is None or attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
        return None
    w = numpy_helper.to_array(b)
    return w.T if attrs.get("transB", 0) else w


def to_int8_dynamic(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    inits = _initializers(graph)
    uses = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    new_nodes, new_inits, dropped = [], [], set()
    for node in graph.node:
        w = _weight_kn(node, inits)
        if w is None or w.dtype != np.float32 or w.shape[0] < MIN_INNER:
            new_nodes.append(node)
            continue
        q, scale = quantise_columns(w)
        base = node.name or node.output[0]
        names = [f"{base}__wq", f"{base}__wscale", f"{base}__wzp"]
        new_inits += [numpy_helper.from_array(q, names[0]), numpy_helper.from_array(scale, names[1]),
                      numpy_helper.from_array(np.zeros(q.shape[1], np.int8), names[2])]
        bias = [node.input[2]] if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2] else []
        new_nodes.append(helper.make_node("DynamicQuantizeMatMul", [node.input[0], *names, *bias], list(node.output),
                                          name=base + "__int8", domain=MS_DOMAIN))
        if uses[node.input[1]] == 1:
            dropped.add(node.input[1])
    kept = [i for i in graph.initializer if i.name not in dropped] + new_inits
    del graph.initializer[:]
    graph.initializer.extend(kept)
    del graph.node[:]
    graph.node.extend(new_nodes)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return model


CONVERTERS = {"fp16": to_fp16_weights, "int8": to_int8_dynamic}
PRECISIONS = ("fp32", *CONVERTERS)


def convert_file(path: str, kind: str) -> None:
    """Rewrite the ONNX file at ``path`` in place as the ``kind`` variant."""
    model = CONVERTERS[kind](onnx.load(path))
    onnx.save(model, path)


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="rewrite ONNX files in place as a lower-precision variant")
    ap.add_argument("kind", choices=sorted(CONVERTERS))
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    for path in args.files:
        convert_file(path, args.kind)


if __name__ == "__main__":
    main()
