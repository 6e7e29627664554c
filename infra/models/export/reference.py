"""PyTorch's outputs for fixed inputs, for parity checks of an exported pack.

  cd infra/models && /usr/bin/python3 -m export.reference --clip-arch ViT-B/16 --random-weights --seed 7 --out DIR
  (or --alpha-clip FILE --clip FILE for real checkpoints)

Writes DIR/meta.json and raw little-endian tensors:
  image-tensors / alpha-tensors / image-embedding: preprocessed inputs and the tower's raw output;
  clip-image-embedding: CLIP's plain image tower (the pack's clipImage, the detail view) on image-tensors;
  input-ids / text-embedding: token ids (first row "a photo of a cat") and the text tower's output;
  scene-rgb / scene-mask: a non-square scene (uint8 HWC) and one object's mask (uint8 0/1), with
  reference-embedding: PyTorch/PIL reference preprocessing (export.preprocess) of that scene with
  [that mask, alpha = 1] through the image tower.
"""
import argparse
import json
import os

import numpy as np
import torch

from export.clip import load_towers
from export.clip_model import ARCHS
from export.preprocess import reference_alpha, reference_image
from shapesworld import generate_scene, split_seeds

CAT_IDS = [49406, 320, 1125, 539, 320, 2368, 49407]  # "a photo of a cat" in CLIP's vocabulary


def scene(seed_index: int = 3):
    """A test-split scene cut to a non-square frame, and the mask of its largest visible object."""
    s = generate_scene(split_seeds("test", seed_index + 1)[seed_index])
    rgb = np.ascontiguousarray(s.image[:, : s.image.shape[1] * 2 // 3])
    masks = [o.mask[:, : rgb.shape[1]] for o in s.objects]
    mask = max(masks, key=lambda m: int(m.sum()))
    return rgb, mask.astype(np.uint8)


def text_ids(ctx: int, rng) -> np.ndarray:
    ids = np.zeros((3, ctx), np.int64)
    ids[0, : len(CAT_IDS)] = CAT_IDS
    ids[1, :20] = [49406, *rng.integers(1, 49406, 18), 49407]
    ids[2, :] = [49406, *rng.integers(1, 49406, ctx - 2), 49407]  # full context, end token last
    return ids


class Writer:
    def __init__(self, out):
        self.out, self.meta = out, {}
        os.makedirs(out, exist_ok=True)

    def __call__(self, name, arr):
        arr = np.ascontiguousarray(arr)
        arr.astype(arr.dtype.newbyteorder("<")).tofile(os.path.join(self.out, name + ".bin"))
        self.meta[name] = {"dtype": str(arr.dtype), "shape": list(arr.shape), "file": name + ".bin"}

    def close(self, **extra):
        with open(os.path.join(self.out, "meta.json"), "w") as f:
            json.dump({**extra, "tensors": self.meta}, f, indent=1)


@torch.no_grad()
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip-arch", required=True, choices=sorted(ARCHS))
    p.add_argument("--alpha-clip")
    p.add_argument("--clip")
    p.add_argument("--random-weights", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    visual, clip = load_towers(args.alpha_clip, args.clip, args.clip_arch, args.seed if args.random_weights else None)
    size, ctx = ARCHS[args.clip_arch]["image_size"], ARCHS[args.clip_arch]["context_length"]
    write, rng = Writer(args.out), np.random.default_rng(0)
    rgb, mask = scene()
    image = reference_image(rgb, size)[None].expand(2, -1, -1, -1).contiguous()
    alpha = torch.stack([reference_alpha(mask.astype(bool), size), reference_alpha(None, size)])
    write("scene-rgb", rgb)
    write("scene-mask", mask)
    write("reference-embedding", visual(image, alpha).numpy())
    # Parity inputs: the same image with a random alpha map and a random image (full value range).
    images = torch.stack([image[0], torch.from_numpy(rng.standard_normal((3, size, size)).astype(np.float32))])
    alphas = torch.stack([alpha[0], torch.from_numpy(rng.standard_normal((1, size, size)).astype(np.float32))])
    write("image-tensors", images.numpy())
    write("alpha-tensors", alphas.numpy())
    write("image-embedding", visual(images, alphas).numpy())
    write("clip-image-embedding", clip.encode_image(images).numpy())
    ids = text_ids(ctx, rng)
    write("input-ids", ids)
    write("text-embedding", clip.encode_text(torch.from_numpy(ids)).numpy())
    write.close(arch=args.clip_arch, seed=args.seed if args.random_weights else None)
    print(f"reference outputs in {args.out}")


if __name__ == "__main__":
    main()
