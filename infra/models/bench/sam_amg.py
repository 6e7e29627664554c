"""Helpers of `npm run bench:sam-production` (test/bench/sam-production.ts); a measurement, not a test.

    cd infra/models
    /usr/bin/python3 -m bench.sam_amg decoders --arch vit_b --seed 0 --out DIR
    /usr/bin/python3 -m bench.sam_amg official --arch vit_b --seed 0 --image DIR/image.json \
        --reference /path/with/segment_anything [--amg '{"predIouThresh": 0}']

`decoders` writes, for the seeded random weights that `export --random-weights --seed S` uses:
- `decoder-straight.onnx`: the straight export of `BatchedDecoder` (production packs before this
  work), to time against the shipped graph in the same run;
- `decoder-tokens.onnx`: the shipped graph's token path alone (IoU predictions, no mask upscaling).

`official` loads the same weights into segment-anything's own modules (or MobileSAM's for
`mobile_sam`), unmodified, from a checkout the caller points to (never part of this repository),
and times `SamAutomaticMaskGenerator.generate` on the image with SAM's defaults or `--amg`
overrides (our names, src/lib/amg/params.ts). Prints one JSON object.
"""
import argparse
import json
import os
import sys
import time
import types

import numpy as np
import torch
from torch import nn

from export.sam import BATCHED_IO, trace_inputs
from export.sam_decoder import SamFastDecoder
from export.sam_model import load_sam
from segmenter.export import dynamic_axes
from segmenter.onnx_wrappers import BatchedDecoder

# our AMG key -> SamAutomaticMaskGenerator argument
OFFICIAL_ARGS = {
    "pointsPerSide": "points_per_side", "pointsPerBatch": "points_per_batch",
    "predIouThresh": "pred_iou_thresh", "stabilityScoreThresh": "stability_score_thresh",
    "stabilityScoreOffset": "stability_score_offset", "boxNmsThresh": "box_nms_thresh",
    "cropNLayers": "crop_n_layers", "cropNmsThresh": "crop_nms_thresh",
    "cropOverlapRatio": "crop_overlap_ratio", "cropNPointsDownscaleFactor": "crop_n_points_downscale_factor",
    "minMaskRegionArea": "min_mask_region_area",
}


class TokenPath(nn.Module):
    """The shipped batched decoder up to its IoU predictions: no mask upscaling."""

    def __init__(self, sam):
        super().__init__()
        self.d = SamFastDecoder(sam)

    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input):
        from segmenter.fast_decoder import _dense_tokens, _mask_branch_weights  # noqa: PLC0415
        d = self.d
        h, w = image_embeddings.shape[2:]
        tokens, bias_t = d._tokens(point_coords, point_labels)
        weights, eps = _mask_branch_weights(d.prompt)
        src = image_embeddings.flatten(2).transpose(1, 2) + _dense_tokens(mask_input, has_mask_input, weights, eps, h * w)
        key_pe = d.prompt.get_dense_pe().flatten(2).transpose(1, 2)
        hs, _ = d._transformer(src, key_pe, tokens, bias_t)
        return d.dec.iou_prediction_head(hs[:, 0, :])


def export_decoders(arch, seed, out):
    sam = load_sam(arch, None, seed)
    os.makedirs(out, exist_ok=True)
    inputs = trace_inputs("batchedDecoder")
    names_in = [t["name"] for t in BATCHED_IO[0]]
    for file, module, outputs in [("decoder-straight.onnx", BatchedDecoder(sam), ["iou_predictions", "low_res_masks"]),
                                  ("decoder-tokens.onnx", TokenPath(sam), ["iou_predictions"])]:
        axes = {k: v for k, v in dynamic_axes(BATCHED_IO).items() if k in names_in + outputs}
        with torch.no_grad():
            torch.onnx.export(module, inputs, os.path.join(out, file), opset_version=17, do_constant_folding=True,
                              input_names=names_in, output_names=outputs, dynamic_axes=axes)


def shim_timm():
    """MobileSAM's TinyViT imports three helpers from timm (not a Debian package). In eval mode
    they are: DropPath with rate 0 = identity, to_2tuple, and an initialiser the loaded weights
    overwrite. Registered only when timm is missing."""
    try:
        import timm  # noqa: F401, PLC0415
        return
    except ImportError:
        pass

    class DropPath(nn.Module):
        def __init__(self, drop_prob=0.0):
            super().__init__()
            self.drop_prob = drop_prob

        def forward(self, x):
            return x

    layers = types.ModuleType("timm.models.layers")
    layers.DropPath = DropPath
    layers.to_2tuple = lambda x: tuple(x) if isinstance(x, (tuple, list)) else (x, x)
    layers.trunc_normal_ = lambda t, std=1.0, **_: nn.init.normal_(t, std=std)
    registry = types.ModuleType("timm.models.registry")
    registry.register_model = lambda fn: fn
    models = types.ModuleType("timm.models")
    models.layers, models.registry = layers, registry
    timm = types.ModuleType("timm")
    timm.models = models
    sys.modules.update({"timm": timm, "timm.models": models, "timm.models.layers": layers,
                        "timm.models.registry": registry})


def official_generator(arch, seed, reference, amg):
    sys.path.insert(0, reference)
    if arch == "mobile_sam":
        shim_timm()
        from mobile_sam import SamAutomaticMaskGenerator, sam_model_registry  # noqa: PLC0415
        official = sam_model_registry["vit_t"]()
    else:
        from segment_anything import SamAutomaticMaskGenerator, sam_model_registry  # noqa: PLC0415
        official = sam_model_registry[arch]()
    ours = load_sam(arch, None, seed).state_dict()
    official.load_state_dict(ours, strict=True)
    official.eval()
    return SamAutomaticMaskGenerator(official, **{OFFICIAL_ARGS[k]: v for k, v in amg.items()})


def run_official(args):
    torch.set_num_threads(args.threads)
    with open(args.image) as f:
        meta = json.load(f)
    img = np.fromfile(os.path.join(os.path.dirname(args.image), meta["file"]), dtype=np.uint8)
    img = img.reshape(meta["height"], meta["width"], 3)
    gen = official_generator(args.arch, args.seed, args.reference, json.loads(args.amg or "{}"))
    t0 = time.time()
    gen.predictor.set_image(img)
    t1 = time.time()
    gen.predictor.reset_image()
    regions = gen.generate(img)   # encodes again: the generator's own per-crop path
    t2 = time.time()
    print(json.dumps({"arch": args.arch, "threads": args.threads, "encoderMs": round((t1 - t0) * 1000),
                      "generateMs": round((t2 - t1) * 1000), "regions": len(regions)}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decoders")
    o = sub.add_parser("official")
    for p in (d, o):
        p.add_argument("--arch", required=True)
        p.add_argument("--seed", type=int, default=0)
    d.add_argument("--out", required=True)
    o.add_argument("--image", required=True, help="image.json beside its raw RGB file")
    o.add_argument("--reference", required=True, help="folder holding segment_anything/ (or mobile_sam/)")
    o.add_argument("--amg", help="AMG overrides, JSON in src/lib/amg/params.ts names")
    o.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if args.cmd == "decoders":
        export_decoders(args.arch, args.seed, args.out)
    else:
        run_official(args)


if __name__ == "__main__":
    main()
