"""Write a one-node MatMul ONNX model: `a` [M, N] is an input, `b` [N, N] a constant weight.

`npm run bench` times it with onnxruntime-node to measure this machine's practical matmul peak, the
denominator of model-FLOP utilisation. The second operand is a constant initializer, as every weight
of the models is: onnxruntime pre-packs constant GEMM operands once per session, and a peak measured
with both operands fed at run time (no pre-packing) came out below what the models themselves reach.

    /usr/bin/python3 -m bench.matmul_model OUT.onnx N
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(n: int) -> onnx.ModelProto:
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["M", n])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, ["M", n])
    weight = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32) / np.sqrt(n)
    b = numpy_helper.from_array(weight, name="b")
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul", [a], [c], initializer=[b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    onnx.save(build(int(sys.argv[2])), sys.argv[1])
