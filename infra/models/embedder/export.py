"""Export the embedder half of the pack: ONNX towers, tokenizer.json, embedder.json, parity fixtures.

  cd infra/models && /usr/bin/python3 -m embedder.export \
      --clip checkpoints/clip.pt --alpha checkpoints/alpha_clip.pt
  (--random exports randomly initialised towers through the same path, for early integration)

Opset 17, dynamic batch axis "B". Nothing is normalised inside the graphs: the caller applies
imageMean/imageStd and alphaMean/alphaStd from the manifest.
"""
import argparse
import json
import os

import numpy as np
import torch

from embedder import model as M
from embedder.data import E, IMAGE_MEAN, IMAGE_STD
from embedder.train import load, tiny_config
from shapesworld import generate_scene, split_seeds
from shapesworld.preprocess import ALPHA_MEAN, ALPHA_STD, embedder_alpha, embedder_alpha_full, embedder_image
from shapesworld.tokenizer import BOS_ID, CONTEXT_LENGTH, EOS_ID, PAD_ID, tokenize, write_tokenizer_json

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FILES = {"image": "alpha-clip-image.onnx", "text": "alpha-clip-text.onnx", "clipImage": "clip-image.onnx"}


def tensor(name, dtype, shape):
    return {"name": name, "dtype": dtype, "shape": shape}


def embedder_section(dim) -> dict:
    img = tensor("image", "float32", ["B", 3, E, E])
    out = [tensor("embedding", "float32", ["B", dim])]
    text = {"file": FILES["text"], "inputs": [tensor("input_ids", "int64", ["B", CONTEXT_LENGTH])], "outputs": out}
    return {
        "imageSize": E, "imageMean": list(IMAGE_MEAN), "imageStd": list(IMAGE_STD),
        "alphaMean": ALPHA_MEAN, "alphaStd": ALPHA_STD, "embedDim": dim,
        "image": {"file": FILES["image"], "inputs": [img, tensor("alpha", "float32", ["B", 1, E, E])], "outputs": out},
        "text": text,
        "clipImage": {"file": FILES["clipImage"], "inputs": [img], "outputs": out},
        # Alpha-CLIP keeps CLIP's text tower frozen, so CLIP's text encoder is the same file.
        "clipText": dict(text),
    }


def tokenizer_section() -> dict:
    return {"file": "tokenizer.json", "contextLength": CONTEXT_LENGTH, "bosId": BOS_ID, "eosId": EOS_ID, "padId": PAD_ID}


def export_onnx(module, args, names, path):
    dyn = {n: {0: "B"} for n in names}
    dyn["embedding"] = {0: "B"}
    torch.onnx.export(module.eval(), args, path, input_names=names, output_names=["embedding"],
                      dynamic_axes=dyn, opset_version=17, do_constant_folding=True)


def sample_inputs():
    """B=2 realistic inputs: a test scene with two of its regions, and two captions."""
    scene = generate_scene(split_seeds("test", 1)[0])
    img = embedder_image(scene.image, E, IMAGE_MEAN, IMAGE_STD)
    image = np.stack([img, img])
    alpha = np.stack([embedder_alpha(scene.objects[0].mask, E), embedder_alpha_full(E)])
    ids = np.asarray([tokenize(scene.objects[0].caption), tokenize("the circle left of the blue square")], np.int64)
    return image, alpha, ids


def write_fixture(name, model_file, inputs, output):
    d = os.path.join(REPO, "test", "fixtures", "parity", name)
    os.makedirs(d, exist_ok=True)
    meta = {"model": model_file, "inputs": [], "outputs": [], "tolerance": 1e-4}
    for kind, items in (("inputs", inputs), ("outputs", [("embedding", output)])):
        for tname, arr in items:
            arr = np.ascontiguousarray(arr)
            f = f"{kind[:-1]}-{tname}.bin"
            arr.astype(arr.dtype.newbyteorder("<")).tofile(os.path.join(d, f))
            meta[kind].append({"name": tname, "dtype": str(arr.dtype), "shape": list(arr.shape), "file": f})
    with open(os.path.join(d, "meta.json"), "w") as fh:
        json.dump(meta, fh, indent=1)
        fh.write("\n")


def models(args):
    if args.random:
        torch.manual_seed(0)
        clip = M.build(tiny_config(), alpha=False)
        return clip, M.alpha_from_clip(clip, tiny_config())
    clip, _ = load(args.clip, alpha=False)
    alpha, _ = load(args.alpha, alpha=True)
    for k, v in clip.state_dict().items():  # the shared text tower must really be shared
        if not k.startswith("visual."):
            assert torch.equal(v, alpha.state_dict()[k]), f"text weight {k} differs between CLIP and Alpha-CLIP"
    return clip, alpha


@torch.no_grad()
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", default=os.path.join(HERE, "..", "checkpoints", "clip.pt"))
    p.add_argument("--alpha", default=os.path.join(HERE, "..", "checkpoints", "alpha_clip.pt"))
    p.add_argument("--random", action="store_true", help="export randomly initialised towers")
    p.add_argument("--pack", default=os.path.join(REPO, "models", "shapes-tiny"))
    args = p.parse_args(argv)
    clip, alpha = (m.eval() for m in models(args))
    os.makedirs(args.pack, exist_ok=True)
    image, alpha_in, ids = sample_inputs()
    ti, ta, tt = torch.from_numpy(image), torch.from_numpy(alpha_in), torch.from_numpy(ids)
    export_onnx(M.ImageOnnx(alpha), (ti, ta), ["image", "alpha"], os.path.join(args.pack, FILES["image"]))
    export_onnx(M.TextOnnx(alpha), (tt,), ["input_ids"], os.path.join(args.pack, FILES["text"]))
    export_onnx(M.ImageOnnx(clip), (ti,), ["image"], os.path.join(args.pack, FILES["clipImage"]))
    write_tokenizer_json(os.path.join(args.pack, "tokenizer.json"))
    dim = alpha.text_projection.shape[1]
    with open(os.path.join(args.pack, "embedder.json"), "w") as fh:
        json.dump({"embedder": embedder_section(dim), "tokenizer": tokenizer_section()}, fh, indent=1)
        fh.write("\n")
    write_fixture("embedder-image", FILES["image"], [("image", image), ("alpha", alpha_in)],
                  alpha.encode_image(ti, ta).numpy())
    write_fixture("embedder-text", FILES["text"], [("input_ids", ids)], alpha.encode_text(tt).numpy())
    write_fixture("embedder-clip-image", FILES["clipImage"], [("image", image)], clip.encode_image(ti).numpy())
    print(f"exported {'random' if args.random else 'trained'} embedder to {args.pack}")


if __name__ == "__main__":
    main()
