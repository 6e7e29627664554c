"""Write a complete model pack (manifest.json, ONNX files, tokenizer.json) from official checkpoints.

  /usr/bin/python3 infra/models/export \\
      --alpha-clip ckpt/clip_b16_grit+mim_fultune_4xe.pth --clip ckpt/ViT-B-16.pt --clip-arch ViT-B/16 \\
      --sam ckpt/sam_vit_b_01ec64.pth --sam-arch vit_b \\
      --bpe third_party/clip/bpe_simple_vocab_16e6.txt.gz --out models/my-pack [--fp16 | --int8] [--sam-precision P]

--random-weights --seed N builds the same full-size architectures with seeded random weights (tests).
CLIP's plain image tower (clip-image.onnx, the same OpenAI CLIP checkpoint as the text tower) is
exported by default, with the embedder's dual-view "views" (context = Alpha-CLIP on the whole image
and the mask, weight 1 - w; detail = CLIP on the region's crop, weight w = --detail-weight 0.5,
the box grown by --crop-margin 0.1 of its width / height on each side). --no-clip-image writes an
alpha-only pack (no clipImage, no views). --with-clip-image is a deprecated no-op kept for old scripts.
--segmenter-from DIR reuses the segmenter (section and files) of an existing pack instead of --sam.
Without a segmenter the pack has no "segmenter" section and the server refuses it. See
docs/production-packs.md.
"""
import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
if MODELS not in sys.path:  # run as `python3 infra/models/export`: make `export.…` importable
    sys.path.insert(0, MODELS)

import make_pack  # noqa: E402
from export.clip_model import ARCHS  # noqa: E402
from export.onnx_weights import PRECISIONS  # noqa: E402
from export.tokenizer import write_tokenizer  # noqa: E402

SAM_ARCHS = ("vit_b", "vit_l", "vit_h", "mobile_sam")
DEFAULT_DETAIL_WEIGHT, DEFAULT_CROP_MARGIN = 0.5, 0.1


def parse_args(argv):
    p = argparse.ArgumentParser(prog="export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alpha-clip", help="Alpha-CLIP vision checkpoint (.pth state dict, e.g. clip_b16_grit+mim_fultune_4xe.pth)")
    p.add_argument("--clip", help="OpenAI CLIP checkpoint (TorchScript .pt, e.g. ViT-B-16.pt) for the text tower")
    p.add_argument("--clip-arch", required=True, choices=sorted(ARCHS))
    p.add_argument("--sam", help="SAM / MobileSAM checkpoint (.pth state dict)")
    p.add_argument("--sam-arch", choices=SAM_ARCHS)
    p.add_argument("--segmenter-from", metavar="PACK", help="copy the segmenter of this existing pack")
    p.add_argument("--bpe", required=True, help="CLIP's bpe_simple_vocab_16e6.txt.gz")
    p.add_argument("--out", required=True, help="pack folder to write")
    p.add_argument("--name", help="pack name (default: the folder's name)")
    p.add_argument("--version", default="1.0.0")
    precision = p.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="weights stored as float16 (embedder and SAM)")
    precision.add_argument("--int8", action="store_true", help="MatMuls as int8 dynamic quantisation (embedder and SAM)")
    p.add_argument("--sam-precision", choices=PRECISIONS,
                   help="the segmenter's own precision (default: that of --fp16 / --int8, else fp32)")
    clip_image = p.add_mutually_exclusive_group()
    clip_image.add_argument("--no-clip-image", action="store_true",
                            help="skip CLIP's plain image tower: an alpha-only pack without views")
    clip_image.add_argument("--with-clip-image", action="store_true",
                            help="deprecated no-op: CLIP's plain image tower is exported by default")
    p.add_argument("--detail-weight", type=float, metavar="W",
                   help=f"weight of the detail view (CLIP on the crop) in the stored vector; the context view "
                        f"gets 1 - W (default {DEFAULT_DETAIL_WEIGHT})")
    p.add_argument("--crop-margin", type=float, metavar="M",
                   help=f"detail crop: the region's box grown by M of its width / height on each side "
                        f"(default {DEFAULT_CROP_MARGIN})")
    p.add_argument("--random-weights", action="store_true", help="seeded random weights instead of checkpoints")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    check_args(p, args)
    return args


def check_args(p, args):
    ckpts = [args.alpha_clip, args.clip, args.sam]
    if args.random_weights and any(ckpts):
        p.error("--random-weights takes no checkpoint files")
    if not args.random_weights and not (args.alpha_clip and args.clip):
        p.error("--alpha-clip and --clip are required (or --random-weights)")
    if args.segmenter_from and (args.sam or args.sam_arch):
        p.error("--segmenter-from and --sam/--sam-arch are exclusive")
    if args.sam and not args.sam_arch:
        p.error("--sam needs --sam-arch")
    if args.sam_precision and not args.sam_arch:
        p.error("--sam-precision applies to an exported segmenter (--sam-arch)")
    for f in [c for c in ckpts if c] + [args.bpe]:
        if not os.path.isfile(f):
            p.error(f"no such file: {f}")
    if args.no_clip_image and (args.detail_weight is not None or args.crop_margin is not None):
        p.error("--detail-weight / --crop-margin set the detail view, which needs the clip image tower "
                "(drop --no-clip-image)")
    try:
        views_for(args)
    except ValueError as e:
        p.error(str(e))


def views_for(args):
    """The embedder's "views" (None with --no-clip-image); ValueError when out of range."""
    if args.no_clip_image:
        return None
    w = DEFAULT_DETAIL_WEIGHT if args.detail_weight is None else args.detail_weight
    m = DEFAULT_CROP_MARGIN if args.crop_margin is None else args.crop_margin
    for flag, value in (("--detail-weight", w), ("--crop-margin", m)):
        if not 0 <= value <= 1:
            raise ValueError(f"{flag} must be in [0, 1], not {value}")
    return make_pack.check_views({"context": {"weight": 1 - w}, "detail": {"weight": w, "cropMargin": m}})


def copy_segmenter(src: str, out: str) -> dict:
    """The segmenter section of pack ``src``, its files copied into ``out``."""
    with open(os.path.join(src, "manifest.json"), encoding="utf-8") as f:
        section = json.load(f)["segmenter"]
    for name in sorted(set(make_pack.referenced_files(section))):
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
    return section


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def main(argv=None):
    args = parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    seed = args.seed if args.random_weights else None
    segmenter = None
    if args.sam_arch:
        from export.sam import export_segmenter
        segmenter = export_segmenter(args.sam, args.sam_arch, out, seed=seed, precision=sam_precision(args))
    elif args.segmenter_from:
        segmenter = copy_segmenter(args.segmenter_from, out)
    from export.clip import export_embedder  # torch is imported only once the arguments are fine
    embedder = export_embedder(args.alpha_clip, args.clip, args.clip_arch, out, seed=seed, fp16=args.fp16,
                               int8=args.int8, clip_image=not args.no_clip_image, views=views_for(args))
    tokenizer = write_tokenizer(args.bpe, os.path.join(out, "tokenizer.json"))
    if segmenter is not None:
        write_json(os.path.join(out, "segmenter.json"), segmenter)
    write_json(os.path.join(out, "embedder.json"), {"embedder": embedder, "tokenizer": tokenizer})
    make_pack.write_manifest(out, header_for(args, out))


def embedder_precision(args) -> str:
    return "fp16" if args.fp16 else "int8" if args.int8 else "fp32"


def sam_precision(args) -> str:
    return args.sam_precision or embedder_precision(args)


def header_for(args, out) -> dict:
    weights = "seeded random weights (seed %d)" % args.seed if args.random_weights else "official checkpoints"
    precision = embedder_precision(args)
    seg = (f"SAM {args.sam_arch} ({sam_precision(args)})" if args.sam_arch else
           f"segmenter of {os.path.basename(os.path.normpath(args.segmenter_from))}" if args.segmenter_from
           else "no segmenter")
    views = views_for(args)
    towers = ("CLIP text tower" if views is None else
              f"CLIP text and image towers (detail view weight {views['detail']['weight']:g}, "
              f"crop margin {views['detail']['cropMargin']:g})")
    return {"format": "region-search-pack/1", "name": args.name or os.path.basename(out), "version": args.version,
            "description": f"Alpha-CLIP {args.clip_arch} + {towers} ({precision}), {seg}; {weights}."}


if __name__ == "__main__":
    main()
