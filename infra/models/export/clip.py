"""Export the embedder half of a production pack: Alpha-CLIP image tower + CLIP text tower → ONNX.

Entry point: ``export_embedder(alpha_ckpt, clip_ckpt, arch, out_dir, *, seed=None, fp16=False,
int8=False, clip_image=True, views=None)`` writes the ONNX files into ``out_dir`` and returns the
manifest's ``embedder`` section. CLIP's plain image tower (``clipImage``, ``image`` [B,3,S,S] →
``embedding`` [B,D]) comes from the same OpenAI CLIP checkpoint as the text tower.
Graph contract (as shapes-tiny's): ``image`` [B,3,S,S] + ``alpha`` [B,1,S,S] → ``embedding`` [B,D];
``input_ids`` [B,77] int64 → ``embedding`` [B,D], pooled at the end-of-text token. Nothing is
normalised inside the graphs: the caller applies imageMean/Std, alphaMean/Std and L2-normalises.
"""
import os

import torch

from embedder import model as M
from embedder.data import IMAGE_MEAN, IMAGE_STD
from embedder.export import export_onnx, tensor
from export import clip_model as C
from export import onnx_weights
from shapesworld.preprocess import ALPHA_MEAN, ALPHA_STD

FILES = {"image": "alpha-clip-image.onnx", "text": "alpha-clip-text.onnx", "clipImage": "clip-image.onnx"}


def load_towers(alpha_ckpt, clip_ckpt, arch, seed=None):
    """(Alpha-CLIP visual, CLIP) from the user's checkpoints, or seeded random weights."""
    if arch not in C.ARCHS:
        raise ValueError(f"unknown arch {arch!r}; one of {', '.join(C.ARCHS)}")
    if seed is not None:
        if alpha_ckpt or clip_ckpt:
            raise ValueError("random weights (seed) and checkpoint files are exclusive")
        return C.random_towers(arch, seed)
    if not alpha_ckpt or not clip_ckpt:
        raise ValueError("need both the Alpha-CLIP and the CLIP checkpoint (or a seed for random weights)")
    visual, clip = C.load_alpha_visual(alpha_ckpt, arch), C.load_clip(clip_ckpt, arch)
    return visual.eval(), clip.eval()


def sample_inputs(cfg: dict, batch: int = 2):
    s = cfg["image_size"]
    ids = torch.zeros(batch, cfg["context_length"], dtype=torch.int64)
    ids[:, :4] = torch.tensor([49406, 320, 1125, 49407])  # "<start> a photo <end>"
    return torch.randn(batch, 3, s, s), torch.randn(batch, 1, s, s), ids


def embedder_section(cfg: dict, clip_image: bool, views: dict = None) -> dict:
    s, d = cfg["image_size"], cfg["embed_dim"]
    img = tensor("image", "float32", ["B", 3, s, s])
    out = [tensor("embedding", "float32", ["B", d])]
    text = {"file": FILES["text"], "inputs": [tensor("input_ids", "int64", ["B", cfg["context_length"]])], "outputs": out}
    section = {
        "imageSize": s, "imageMean": list(IMAGE_MEAN), "imageStd": list(IMAGE_STD),
        "alphaMean": ALPHA_MEAN, "alphaStd": ALPHA_STD, "embedDim": d,
        "image": {"file": FILES["image"], "inputs": [img, tensor("alpha", "float32", ["B", 1, s, s])], "outputs": out},
        "text": text,
        # Alpha-CLIP keeps CLIP's text tower frozen: the plain-CLIP baseline text model is the same file.
        "clipText": dict(text),
    }
    if clip_image:
        section["clipImage"] = {"file": FILES["clipImage"], "inputs": [img], "outputs": out}
    if views is not None:
        if not clip_image:
            raise ValueError("views need the clip image tower (the detail view runs CLIP on the crop)")
        section["views"] = views
    return section


class AlphaImageOnnx(torch.nn.Module):
    def __init__(self, visual):
        super().__init__()
        self.visual = visual

    def forward(self, image, alpha):
        return self.visual(image, alpha)


@torch.no_grad()
def export_embedder(alpha_ckpt, clip_ckpt, arch, out_dir, *, seed=None, fp16=False, int8=False,
                    clip_image=True, views=None) -> dict:
    """Write the embedder's ONNX files into ``out_dir``; returns the manifest's ``embedder`` section.

    ``seed`` (with no checkpoints) builds the same architecture with seeded random weights.
    ``fp16`` / ``int8`` store the weights at that precision (inputs and outputs stay float32).
    ``clip_image`` (default) also exports CLIP's plain image tower: the detail view of dual-view packs
    and the paper's crop / mask baselines. ``views`` (needs ``clip_image``) is written as the
    section's "views" (see make_pack.check_views).
    """
    if fp16 and int8:
        raise ValueError("fp16 and int8 are exclusive")
    if views is not None and not clip_image:
        raise ValueError("views need the clip image tower (the detail view runs CLIP on the crop)")
    visual, clip = load_towers(alpha_ckpt, clip_ckpt, arch, seed)
    cfg = C.ARCHS[arch]
    os.makedirs(out_dir, exist_ok=True)
    image, alpha, ids = sample_inputs(cfg)
    paths = {role: os.path.join(out_dir, f) for role, f in FILES.items()}
    export_onnx(AlphaImageOnnx(visual), (image, alpha), ["image", "alpha"], paths["image"])
    export_onnx(M.TextOnnx(clip), (ids,), ["input_ids"], paths["text"])
    if clip_image:
        export_onnx(M.ImageOnnx(clip), (image,), ["image"], paths["clipImage"])
    if fp16 or int8:
        for role in ["image", "text"] + (["clipImage"] if clip_image else []):
            onnx_weights.convert_file(paths[role], "fp16" if fp16 else "int8")
    return embedder_section(cfg, clip_image, views)
