"""Export a SAM segmenter and write PyTorch's outputs for fixed inputs, for the TypeScript parity
test (test/node/production-sam.test.ts):

    cd infra/models && /usr/bin/python3 -m export.sam_parity --arch vit_b --random-weights --out DIR [--precision int8]

DIR gets the three ONNX files, `segmenter.json` (the manifest section), `image.rgb` + `image.json`
(a deterministic 480x640 test image, raw RGB), and `parity/segmenter-*/` fixtures in the format of
test/fixtures/parity (meta.json + little-endian float32 .bin per tensor):
- encoder: segment-anything's own preprocessing of the image -> image_embeddings;
- decoder: the official single-prompt graph, several points of every label + padding, a mask prompt,
  the image's original size;
- decoder-batched: 4 single-point prompts padded as the pipeline pads them (point, then (0, 0) with
  label -1); prompts 0-2 positive without a mask prompt (the pipeline's AMG prompts), prompt 3
  negative with a mask prompt.
"""
import argparse
import copy
import json
import os
import sys
import time

import torch

from segmenter.export import write_fixture

from .sam import PRECISIONS, REFERENCE, export_sam_model
from .sam_model import ARCHS, IMAGE_SIZE, MASK_SIZE, load_sam
from .sam_preprocess import sam_preprocess, synthetic_image

PAD = [0.0, 0.0]


def decoder_inputs(emb, orig_hw):
    g = torch.Generator().manual_seed(2)
    coords = torch.tensor([[[301.5, 402.25], [640.0, 380.0], [100.0, 120.0], [880.0, 700.0], PAD]])
    labels = torch.tensor([[1.0, 0.0, 2.0, 3.0, -1.0]])
    mask = torch.randn(1, 1, MASK_SIZE, MASK_SIZE, generator=g) * 4
    return (emb, coords, labels, mask, torch.ones(1), torch.tensor([float(v) for v in orig_hw]))


def batched_inputs(emb):
    g = torch.Generator().manual_seed(3)
    points = [[512.0, 384.0], [100.5, 700.25], [1000.0, 10.0], [256.0, 640.0]]
    coords = torch.tensor([[p, PAD] for p in points])
    labels = torch.tensor([[1.0, -1.0], [1.0, -1.0], [1.0, -1.0], [0.0, -1.0]])
    mask = torch.zeros(4, 1, MASK_SIZE, MASK_SIZE)
    mask[3] = torch.randn(1, MASK_SIZE, MASK_SIZE, generator=g) * 4
    return (emb, coords, labels, mask, torch.tensor([0.0, 0.0, 0.0, 1.0]))


def reference(sam, part, inputs, dtype):
    """PyTorch's outputs of the module defining one exported graph (computed in `dtype`, returned as
    float32): the batched decoder's fixtures come from `BatchedDecoder`, not the rewritten graph."""
    model = REFERENCE[part](sam if dtype == torch.float32 else copy.deepcopy(sam).to(dtype))
    with torch.no_grad():
        out = model(*[t.to(dtype) if t.is_floating_point() else t for t in inputs])
    return tuple(o.float() for o in (out if isinstance(out, tuple) else (out,)))


def write_image(img, out_dir):
    img.tofile(os.path.join(out_dir, "image.rgb"))
    with open(os.path.join(out_dir, "image.json"), "w") as f:
        json.dump({"file": "image.rgb", "height": int(img.shape[0]), "width": int(img.shape[1])}, f)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=ARCHS, default="vit_b")
    ap.add_argument("--checkpoint", default=None, help="official state dict (else --random-weights)")
    ap.add_argument("--random-weights", action="store_true", help="seeded random weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reference", choices=["float32", "float64"], default="float32",
                    help="precision PyTorch computes the reference outputs in")
    ap.add_argument("--precision", choices=PRECISIONS, default="fp32",
                    help="weights of the exported graphs (the PyTorch reference stays float32/64)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.random_weights == (args.checkpoint is not None):
        ap.error("give exactly one of --checkpoint and --random-weights")
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    t0 = time.time()
    sam = load_sam(args.arch, args.checkpoint, args.seed if args.random_weights else None)
    section = export_sam_model(sam, args.out, precision=args.precision)
    with open(os.path.join(args.out, "segmenter.json"), "w") as f:
        json.dump(section, f, indent=2)
    t1 = time.time()
    img = synthetic_image()
    write_image(img, args.out)
    dtype = torch.float64 if args.reference == "float64" else torch.float32
    fixtures = os.path.join(args.out, "parity")
    enc_in = (sam_preprocess(img),)
    t2 = time.time()
    emb = reference(sam, "encoder", enc_in, dtype)
    t3 = time.time()
    write_fixture("encoder", enc_in, emb, fixtures)
    for part, inputs in [("decoder", decoder_inputs(emb[0], img.shape[:2])),
                         ("batchedDecoder", batched_inputs(emb[0]))]:
        write_fixture(part, inputs, reference(sam, part, inputs, dtype), fixtures)
    print(json.dumps({"arch": args.arch, "precision": args.precision, "exportSeconds": round(t1 - t0, 1),
                      "pytorchEncoderSeconds": round(t3 - t2, 1), "reference": args.reference,
                      "imageSize": IMAGE_SIZE}), file=sys.stderr)


if __name__ == "__main__":
    main()
