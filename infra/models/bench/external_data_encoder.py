"""A > 2 GiB SAM-contract encoder for a scripted check of the external-data path at full scale,
while a real SAM ViT-H export does not fit this machine (docs/production-packs-sam.md).

    cd infra/models && /usr/bin/python3 -m bench.external_data_encoder --like /tmp/sam-b --out /tmp/big
    npx tsx test/bench/production-sam-parity.ts --dir /tmp/big

`--like` is a folder `export.sam_parity` wrote (any arch): its decoders, their fixtures and the test
image are copied. The encoder is replaced by a graph of SAM's contract (`image` [1, 3, 1024, 1024] ->
`image_embeddings` [1, 256, 64, 64]) whose weights are `--rows` x 2^20 float32 values (default 550
rows: 2.3 GB, over ONNX's 2 GiB single-file limit): the embeddings are the first `--rows` input
values times that table, so every weight reaches the output. The weights are written by the same
writer as ViT-H's (`external_data.save_with_external_data`); the fixture's expected output is
computed in float64 with numpy.
"""
import argparse
import json
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from external_data import save_with_external_data
from segmenter.export import spec

EMB = [1, 256, 64, 64]
WIDTH = int(np.prod(EMB))          # 2^20 output values
CHUNK_ROWS = 100                   # one initializer stays far below protobuf's 2 GiB per field


def weight_chunks(rows, seed):
    rng = np.random.default_rng(seed)
    for start in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - start)
        yield start, (rng.standard_normal((n, WIDTH), dtype=np.float32) / np.sqrt(rows)).astype(np.float32)


def build(rows, seed, x):
    """(model, expected output for input `x` [1, 3, 1024, 1024])."""
    flat = x.reshape(-1)[:rows].astype(np.float64)
    want = np.zeros(WIDTH, np.float64)
    nodes = [helper.make_node("Reshape", ["image", "flat_shape"], ["flat"])]
    inits = [numpy_helper.from_array(np.array([1, -1], np.int64), "flat_shape"),
             numpy_helper.from_array(np.array(EMB, np.int64), "emb_shape")]
    parts = []
    for start, w in weight_chunks(rows, seed):
        i, n = len(parts), w.shape[0]
        want += flat[start:start + n] @ w.astype(np.float64)
        inits += [numpy_helper.from_array(w, f"table_{i}"),
                  numpy_helper.from_array(np.array([start], np.int64), f"start_{i}"),
                  numpy_helper.from_array(np.array([start + n], np.int64), f"end_{i}")]
        nodes += [helper.make_node("Slice", ["flat", f"start_{i}", f"end_{i}", "axis_1"], [f"x_{i}"]),
                  helper.make_node("MatMul", [f"x_{i}", f"table_{i}"], [f"y_{i}"])]
        parts.append(f"y_{i}")
        del w
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "axis_1"))
    nodes += [helper.make_node("Sum", parts, ["sum"]), helper.make_node("Reshape", ["sum", "emb_shape"], ["image_embeddings"])]
    graph = helper.make_graph(nodes, "external-data-encoder",
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 1024, 1024])],
                              [helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, EMB)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model, want.astype(np.float32).reshape(EMB)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--like", required=True, help="a folder written by export.sam_parity")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=550)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    shutil.copytree(args.like, args.out, ignore=shutil.ignore_patterns("segmenter-encoder.onnx*", "manifest.json",
                                                                         "alpha-clip-*", "clip-*", "tokenizer.json"))
    fixture = os.path.join(args.out, "parity", "segmenter-encoder")
    with open(os.path.join(fixture, "meta.json")) as f:
        meta = json.load(f)
    x = np.fromfile(os.path.join(fixture, meta["inputs"][0]["file"]), "<f4").reshape(meta["inputs"][0]["shape"])
    model, want = build(args.rows, args.seed, x)
    want.astype("<f4").tofile(os.path.join(fixture, meta["outputs"][0]["file"]))
    external = save_with_external_data(model, os.path.join(args.out, "segmenter-encoder.onnx"), size_threshold=1024)
    with open(os.path.join(args.out, "segmenter.json")) as f:
        section = json.load(f)
    section["encoder"] = {"file": "segmenter-encoder.onnx", "externalData": external,
                          "inputs": [spec("image", [1, 3, 1024, 1024])], "outputs": [spec("image_embeddings", EMB)]}
    with open(os.path.join(args.out, "segmenter.json"), "w") as f:
        json.dump(section, f, indent=2)
    size = os.path.getsize(os.path.join(args.out, external[0]))
    print(json.dumps({"externalData": external, "bytes": size, "overTwoGiB": size > 2 ** 31}))


if __name__ == "__main__":
    main()
