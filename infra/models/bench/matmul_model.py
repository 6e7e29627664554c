"""Write a one-node MatMul ONNX model (both operands are inputs, no weights).

`npm run bench` times it with onnxruntime-node to measure this machine's practical matmul peak, the
denominator of model-FLOP utilisation.

    /usr/bin/python3 -m bench.matmul_model OUT.onnx
"""
import sys

import onnx
from onnx import TensorProto, helper


def build() -> onnx.ModelProto:
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["M", "K"])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["K", "N"])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, ["M", "N"])
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul", [a, b], [c])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    onnx.save(build(), sys.argv[1])
