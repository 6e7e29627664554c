"""Export the segmenter to ONNX (encoder, official decoder, batched decoder), the manifest fragment
`segmenter.json`, and PyTorch-computed parity fixtures for the TypeScript side.

    cd infra/models && /usr/bin/python3 -m segmenter.export            # trained checkpoint
    cd infra/models && /usr/bin/python3 -m segmenter.export --random   # seeded random weights

Run with Debian torch 1.13 (opset 17): its attention path is plain matmul/softmax.
"""
import argparse
import copy
import json
import os
import shutil

import onnx
import torch

from .model import (IMAGE_SIZE, MASK_SIZE, MASK_THRESHOLD, PIXEL_MEAN, PIXEL_STD, PROMPT_DIM,
                    EMBED_SIZE, TinySam)
from .fast_decoder import FastBatchedDecoder
from .onnx_wrappers import BatchedDecoder, ImageEncoderOnnx, SamOnnxDecoder

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CHECKPOINT = os.path.join(REPO, "infra", "models", "checkpoints", "segmenter.pt")
PACK = os.path.join(REPO, "models", "shapes-tiny")
FIXTURES = os.path.join(REPO, "test", "fixtures", "parity")
EMB = [1, PROMPT_DIM, EMBED_SIZE, EMBED_SIZE]
DEFAULT_AMG = {"pointsPerSide": 16}


def spec(name, shape, dtype="float32"):
    return {"name": name, "dtype": dtype, "shape": shape}


def contract_io(image_size, emb, mask_size):
    """(inputs, outputs) tensor specs of the encoder, the official decoder and the batched decoder
    for encoder input S = `image_size`, embeddings `emb` [1, C, h, w], masks `mask_size` = 4h."""
    encoder = ([spec("image", [1, 3, image_size, image_size])], [spec("image_embeddings", emb)])
    decoder = (
        [spec("image_embeddings", emb), spec("point_coords", [1, "N", 2]), spec("point_labels", [1, "N"]),
         spec("mask_input", [1, 1, mask_size, mask_size]), spec("has_mask_input", [1]),
         spec("orig_im_size", [2])],
        [spec("masks", [1, 4, "H", "W"]), spec("iou_predictions", [1, 4]),
         spec("low_res_masks", [1, 4, mask_size, mask_size])])
    batched = (
        [spec("image_embeddings", emb), spec("point_coords", ["B", "N", 2]), spec("point_labels", ["B", "N"]),
         spec("mask_input", ["B", 1, mask_size, mask_size]), spec("has_mask_input", ["B"])],
        [spec("iou_predictions", ["B", 4]), spec("low_res_masks", ["B", 4, mask_size, mask_size])])
    return encoder, decoder, batched


ENCODER_IO, DECODER_IO, BATCHED_IO = contract_io(IMAGE_SIZE, EMB, MASK_SIZE)
PARTS = {  # manifest key -> (file, wrapper, io)
    "encoder": ("segmenter-encoder.onnx", ImageEncoderOnnx, ENCODER_IO),
    "decoder": ("segmenter-decoder.onnx", SamOnnxDecoder, DECODER_IO),
    "batchedDecoder": ("segmenter-decoder-batched.onnx", FastBatchedDecoder, BATCHED_IO),
}
# The graph exported for a part may be a faster rewrite of the module that defines it; parity
# fixtures always come from the defining module, so the rewrite is checked against it.
REFERENCE = {"batchedDecoder": BatchedDecoder}


def reference(part):
    """The module whose outputs define `part` (and its parity fixtures)."""
    return REFERENCE.get(part, PARTS[part][1])


def load_model(random_init=False, seed=0, checkpoint=CHECKPOINT):
    torch.manual_seed(seed)
    sam = TinySam()
    if not random_init:
        sam.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    return sam.eval()


def dynamic_axes(io):
    """Every string entry of a contract shape becomes a named dynamic axis."""
    axes = {}
    for t in io[0] + io[1]:
        named = {i: d for i, d in enumerate(t["shape"]) if isinstance(d, str)}
        if named:
            axes[t["name"]] = named
    return axes


def example_inputs(part, emb, seed=1):
    """Deterministic example prompts, also used as the parity fixtures' inputs."""
    g = torch.Generator().manual_seed(seed)
    if part == "encoder":
        return (torch.randn(1, 3, IMAGE_SIZE, IMAGE_SIZE, generator=g),)
    if part == "decoder":   # one real point + one padding point, a non-square original size
        coords = torch.tensor([[[97.3, 141.8], [0.0, 0.0]]])
        labels = torch.tensor([[1.0, -1.0]])
        # 96 x 128 -> resized 192 x 256 (crop of the padded frame) -> exactly x0.5 back: bilinear
        # weights are exact in float32, so the fixture measures the graph, not Resize rounding.
        return (emb, coords, labels, torch.zeros(1, 1, MASK_SIZE, MASK_SIZE), torch.zeros(1),
                torch.tensor([96.0, 128.0]))
    b = 5                   # batched: 5 single-point prompts, two of them with a mask prompt
    coords = torch.rand(b, 1, 2, generator=g) * IMAGE_SIZE
    labels = torch.tensor([[1.0], [1.0], [0.0], [1.0], [1.0]])
    mask_input = torch.randn(b, 1, MASK_SIZE, MASK_SIZE, generator=g) * 4
    has_mask = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0])
    return (emb, coords, labels, mask_input, has_mask)


def export_part(sam, part, inputs, out_dir):
    file, wrapper, io = PARTS[part]
    path = os.path.join(out_dir, file)
    torch.onnx.export(wrapper(sam), inputs, path, opset_version=17, do_constant_folding=True,
                      input_names=[t["name"] for t in io[0]], output_names=[t["name"] for t in io[1]],
                      dynamic_axes=dynamic_axes(io))
    pin_static_dims(path, io)
    return {"file": file, "inputs": io[0], "outputs": io[1]}


def pin_static_dims(path, io):
    """Write the contract's fixed dims into the graph's declared shapes.

    The tracer loses static sizes behind the dynamic crop/resize (masks comes out as
    [?, ?, H, W]); the contract says [1, 4, "H", "W"], and loaders check declared shapes."""
    model = onnx.load(path)
    pin_dims(model, io)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def pin_dims(model, io):
    """In place: every graph input/output dim becomes the contract's int (fixed) or name (dynamic)."""
    for value, t in zip(list(model.graph.input) + list(model.graph.output), io[0] + io[1]):
        for dim, want in zip(value.type.tensor_type.shape.dim, t["shape"]):
            dim.Clear()
            if isinstance(want, int):
                dim.dim_value = want
            else:
                dim.dim_param = want


def write_fixture(part, inputs, outputs, root, tolerance=1e-4):
    """Little-endian float32 .bin per tensor + meta.json with concrete shapes."""
    file, _, io = PARTS[part]
    out_dir = os.path.join(root, "segmenter-" + {"batchedDecoder": "decoder-batched"}.get(part, part))
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)

    def entries(specs, tensors):
        rows = []
        for s, t in zip(specs, tensors):
            arr = t.detach().cpu().numpy().astype("<f4")
            arr.tofile(os.path.join(out_dir, s["name"] + ".bin"))
            rows.append({"name": s["name"], "dtype": "float32", "shape": list(arr.shape),
                         "file": s["name"] + ".bin"})
        return rows

    meta = {"model": file, "inputs": entries(io[0], inputs), "outputs": entries(io[1], outputs),
            "tolerance": tolerance}
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)


def manifest_fragment(parts, amg):
    return {"imageSize": IMAGE_SIZE, "pixelMean": PIXEL_MEAN, "pixelStd": PIXEL_STD,
            "maskThreshold": MASK_THRESHOLD, **parts, "amg": amg}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", action="store_true", help="seeded random weights (no checkpoint)")
    ap.add_argument("--fixtures", default=FIXTURES, help="where parity fixtures go")
    ap.add_argument("--reference", choices=["float64", "float32"], default="float64",
                    help="precision of the PyTorch reference outputs in the fixtures")
    ap.add_argument("--amg", default=None, help="JSON file with AMG overrides (default: report's choice)")
    ap.add_argument("--checkpoint", default=CHECKPOINT, help="segmenter state dict to export")
    ap.add_argument("--pack", default=PACK, help="pack folder the ONNX files and segmenter.json go to")
    args = ap.parse_args()
    sam = load_model(random_init=args.random, checkpoint=args.checkpoint)
    os.makedirs(args.pack, exist_ok=True)
    amg_file = args.amg or os.path.join(REPO, "infra", "models", "reports", "segmenter.json")
    amg = DEFAULT_AMG
    if os.path.exists(amg_file) and not args.random:
        amg = json.load(open(amg_file)).get("amg", DEFAULT_AMG)
    parts, emb = {}, None
    # Fixture outputs are computed in float64 from the float32 inputs: the most exact reference, so
    # the float32 ONNX runtime is judged on its own rounding only (decoder logits reach |80|, where
    # one float32 ulp is ~8e-6 and two float32 implementations drift apart by ~1e-4).
    dtype = torch.float64 if args.reference == "float64" else torch.float32
    sam64 = copy.deepcopy(sam).to(dtype)
    with torch.no_grad():
        for part in ["encoder", "decoder", "batchedDecoder"]:
            inputs = example_inputs(part, emb)
            outputs = reference(part)(sam64)(*[t.to(dtype) for t in inputs])
            outputs = tuple(o.float() for o in (outputs if isinstance(outputs, tuple) else (outputs,)))
            if part == "encoder":
                emb = outputs[0]
            parts[part] = export_part(sam, part, inputs, args.pack)
            write_fixture(part, inputs, outputs, args.fixtures)
    with open(os.path.join(args.pack, "segmenter.json"), "w") as f:
        json.dump(manifest_fragment(parts, amg), f, indent=2)
    print("wrote", args.pack, "and", args.fixtures)


if __name__ == "__main__":
    main()
