"""Export a SAM / MobileSAM checkpoint as a pack's segmenter: encoder, official single-prompt
decoder and batched decoder ONNX files, plus the manifest's `segmenter` section.

    export_segmenter("sam_vit_b_01ec64.pth", "vit_b", "packs/sam-b")   # official weights
    export_segmenter(None, "vit_b", "/tmp/x", seed=0)                   # seeded random weights

The single-prompt decoder is `segmenter.onnx_wrappers.SamOnnxDecoder` (segment-anything's
`SamOnnxModel` contract) around `sam_model.Sam`; the batched one computes the same function with a
leading prompt axis, as `sam_decoder.SamFastDecoder` (the same function as `BatchedDecoder`, laid
out for onnxruntime's CPU kernels). Runs on Debian torch 1.13 / onnx 1.12.
"""
import os
import tempfile
import warnings

import numpy as np
import onnx
import torch
from onnx import mapping

from external_data import save_with_external_data as write_external_data
from segmenter.export import contract_io, dynamic_axes, pin_dims
from segmenter.onnx_wrappers import BatchedDecoder, ImageEncoderOnnx, SamOnnxDecoder

from . import onnx_weights
from .onnx_weights import PRECISIONS
from .sam_decoder import SamFastDecoder
from .sam_model import (ARCHS, EMBED_SIZE, IMAGE_SIZE, MASK_SIZE, MASK_THRESHOLD, PIXEL_MEAN,
                        PIXEL_STD, PROMPT_DIM, load_sam)

EMB = [1, PROMPT_DIM, EMBED_SIZE, EMBED_SIZE]
PROTOBUF_LIMIT = 2 ** 31 - 1     # one ONNX file holds at most 2 GiB; larger weights go to a .data file
GRAPH_HEADROOM = 64 << 20        # room left in that file for the graph itself (nodes, names)

# segment-anything's SamAutomaticMaskGenerator.__init__ defaults, in src/lib/amg/params.ts's names.
SAM_AMG_DEFAULTS = {
    "pointsPerSide": 32, "pointsPerBatch": 64, "predIouThresh": 0.88, "stabilityScoreThresh": 0.95,
    "stabilityScoreOffset": 1.0, "boxNmsThresh": 0.7, "cropNLayers": 0, "cropNmsThresh": 0.7,
    "cropOverlapRatio": 512 / 1500, "cropNPointsDownscaleFactor": 1, "minMaskRegionArea": 0,
}

ENCODER_IO, DECODER_IO, BATCHED_IO = contract_io(IMAGE_SIZE, EMB, MASK_SIZE)
PARTS = {  # manifest key -> (file, wrapper, io); file names as in models/shapes-tiny
    "encoder": ("segmenter-encoder.onnx", ImageEncoderOnnx, ENCODER_IO),
    "decoder": ("segmenter-decoder.onnx", SamOnnxDecoder, DECODER_IO),
    "batchedDecoder": ("segmenter-decoder-batched.onnx", SamFastDecoder, BATCHED_IO),
}
# The module that DEFINES each exported graph's function (parity fixtures come from it).
REFERENCE = {"encoder": ImageEncoderOnnx, "decoder": SamOnnxDecoder, "batchedDecoder": BatchedDecoder}


def trace_inputs(part):
    """Inputs to trace each graph with (values do not matter; shapes must be general: N = 2 points,
    B = 3 prompts, a non-square original size)."""
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(*EMB, generator=g)
    if part == "encoder":
        return (torch.randn(1, 3, IMAGE_SIZE, IMAGE_SIZE, generator=g),)
    b = 1 if part == "decoder" else 3
    coords = torch.rand(b, 2, 2, generator=g) * IMAGE_SIZE
    labels = torch.tensor([[1.0, -1.0]]).expand(b, 2).contiguous()
    mask, has = torch.zeros(b, 1, MASK_SIZE, MASK_SIZE), torch.zeros(b)
    if part == "decoder":
        return (emb, coords, labels, mask, has, torch.tensor([1500.0, 2250.0]))
    return (emb, coords, labels, mask, has)


def export_part(sam, part, out_dir, opset=17, external_data_threshold=PROTOBUF_LIMIT, precision="fp32"):
    """Trace one wrapper to `out_dir/<file>`; returns its manifest entry. `precision` "fp16" / "int8"
    rewrites the graph's weights as `onnx_weights` does for the embedder (inputs and outputs stay
    float32). A graph whose weights (after that rewrite) reach `external_data_threshold` bytes
    (default: ONNX's 2 GiB single-file limit less room for the graph; SAM ViT-H's fp32 encoder) keeps
    them in one `<file>.data` beside it, named in the entry's `externalData` list."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; one of {', '.join(PRECISIONS)}")
    file, wrapper, io = PARTS[part]
    path = os.path.join(out_dir, file)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        traced = os.path.join(tmp, file)   # the exporter may scatter external tensors: keep them apart
        with torch.no_grad(), warnings.catch_warnings():
            # Shape checks on the fixed 1024^2 grid become constants: intended; silenced as SAM's exporter does.
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", category=UserWarning)
            torch.onnx.export(wrapper(sam), trace_inputs(part), traced, opset_version=opset,
                              do_constant_folding=True, input_names=[t["name"] for t in io[0]],
                              output_names=[t["name"] for t in io[1]], dynamic_axes=dynamic_axes(io))
        model = onnx.load(traced)   # loads the scattered external tensors too
    pin_dims(model, io)
    if precision != "fp32":
        model = onnx_weights.CONVERTERS[precision](model)
    entry = {"file": file, "inputs": io[0], "outputs": io[1]}
    if initializer_bytes(model) + GRAPH_HEADROOM < external_data_threshold:
        onnx.checker.check_model(model)
        onnx.save(model, path)
        return entry
    # every weight of 1 KiB or more goes to the one .data file
    return {**entry, "externalData": write_external_data(model, path, size_threshold=1024)}


def initializer_bytes(model):
    """Bytes of the graph's constant tensors (what decides whether one ONNX file can hold it)."""
    return sum(int(np.prod(t.dims)) * np.dtype(mapping.TENSOR_TYPE_TO_NP_TYPE[t.data_type]).itemsize
               for t in model.graph.initializer)


def segmenter_section(parts, amg=None):
    """The manifest's `segmenter` object (schema of models/shapes-tiny/manifest.json)."""
    return {"imageSize": IMAGE_SIZE, "pixelMean": PIXEL_MEAN, "pixelStd": PIXEL_STD,
            "maskThreshold": MASK_THRESHOLD, **parts, "amg": dict(amg or SAM_AMG_DEFAULTS)}


def export_sam_model(sam, out_dir, opset=17, external_data_threshold=PROTOBUF_LIMIT, precision="fp32"):
    """Export an already-built `sam_model.Sam` (eval mode) into `out_dir`; returns the section.
    `external_data_threshold`, `precision`: see `export_part` (lower the threshold only to test
    that branch)."""
    os.makedirs(out_dir, exist_ok=True)
    parts = {part: export_part(sam, part, out_dir, opset, external_data_threshold, precision) for part in PARTS}
    return segmenter_section(parts)


def export_segmenter(checkpoint, arch, out_dir, *, seed=None, opset=17, precision="fp32"):
    """Write the three segmenter ONNX files of `arch` into `out_dir` and return the manifest's
    `segmenter` section. `checkpoint`: an official state dict (`.pth` / `.pt`), loaded with
    strict=True; None = seeded random weights (`seed`, default 0). `precision`: fp32, fp16, int8."""
    if arch not in ARCHS:
        raise ValueError(f"unknown SAM arch {arch!r}; expected one of {', '.join(ARCHS)}")
    if checkpoint is not None and seed is not None:
        raise ValueError("seed only applies to random weights (checkpoint=None)")
    return export_sam_model(load_sam(arch, checkpoint, seed), out_dir, opset, precision=precision)
