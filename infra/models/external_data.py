"""Rewrite an ONNX model with its initializers in one external-data file, the layout
`export/sam.py` uses for graphs over ONNX's 2 GiB single-file limit (SAM ViT-H's fp32 encoder).

    cd infra/models && /usr/bin/python3 external_data.py SRC.onnx DST.onnx [--size-threshold 0]

DST.onnx keeps the graph; every initializer of at least `--size-threshold` bytes (default 0: all)
moves to `DST.onnx.data` beside it. Prints the manifest fragment for the model entry
(`{"externalData": ["DST.onnx.data"]}`) on stdout. The TypeScript external-data tests
(test/node/pack-external-data.test.ts) use it to make a small model of that layout.
"""
import argparse
import json
import os

import onnx


def save_with_external_data(model, path, size_threshold=0):
    """Write `model` to `path` + one `<basename>.data`; returns the `externalData` names
    (relative to the folder of `path`, as onnxruntime resolves them)."""
    location = os.path.basename(path) + ".data"
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=size_threshold)
    onnx.checker.check_model(path)
    return [location]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--size-threshold", type=int, default=0)
    args = ap.parse_args(argv)
    names = save_with_external_data(onnx.load(args.src), args.dst, args.size_threshold)
    print(json.dumps({"externalData": names}))


if __name__ == "__main__":
    main()
