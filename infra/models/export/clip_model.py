"""Full-size Alpha-CLIP / CLIP towers with the official state-dict keys, and checkpoint reading.

Module code is shared with the shapes-tiny towers (``embedder/model.py``); what differs here is
Alpha-CLIP's vision attention, whose projections are ``nn.Linear`` (``attn.in_proj.weight``,
``attn.in_proj.bias``) where OpenAI CLIP's are ``nn.MultiheadAttention`` (``attn.in_proj_weight``).
"""
import math

import torch
from torch import nn

from embedder import model as M

# Official sizes (OpenAI CLIP's state dicts); heads are width // 64 throughout.
ARCHS = {
    "ViT-B/16": dict(embed_dim=512, image_size=224, patch_size=16, vision_width=768, vision_layers=12,
                     vision_heads=12, context_length=77, vocab_size=49408, text_width=512, text_layers=12,
                     text_heads=8),
    "ViT-L/14": dict(embed_dim=768, image_size=224, patch_size=14, vision_width=1024, vision_layers=24,
                     vision_heads=16, context_length=77, vocab_size=49408, text_width=768, text_layers=12,
                     text_heads=12),
}
ARCHS["ViT-L/14@336px"] = dict(ARCHS["ViT-L/14"], image_size=336)
VISION_KEYS = ("embed_dim", "image_size", "patch_size", "vision_width", "vision_layers", "vision_heads")
TEXT_KEYS = ("embed_dim", "context_length", "vocab_size", "text_width", "text_layers", "text_heads")
# Integers OpenAI's TorchScript archives may carry next to the weights (not parameters).
CLIP_METADATA_KEYS = ("input_resolution", "context_length", "vocab_size")


class AlphaClipAttention(nn.Module):
    """Alpha-CLIP's vision self-attention: MultiheadAttention's maths with Linear projections."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.scale = heads, (width // heads) ** -0.5
        self.in_proj = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, _k=None, _v=None, need_weights=False, attn_mask=None):
        """Self-attention over sequence-first ``x`` [L, N, C]; called like MultiheadAttention."""
        L, N, C = x.shape
        q, k, v = (t.reshape(L, N * self.heads, C // self.heads).transpose(0, 1)
                   for t in self.in_proj(x).chunk(3, dim=-1))
        attn = torch.bmm(q * self.scale, k.transpose(1, 2))
        if attn_mask is not None:
            attn = attn + attn_mask
        out = torch.bmm(attn.softmax(dim=-1), v).transpose(0, 1).reshape(L, N, C)
        return self.out_proj(out), None


def alpha_visual(cfg: dict) -> nn.Module:
    """Alpha-CLIP's vision tower; its state dict is exactly the released ``.pth`` (no prefix)."""
    return M.VisionTransformer(cfg["image_size"], cfg["patch_size"], cfg["vision_width"], cfg["vision_layers"],
                               cfg["vision_heads"], cfg["embed_dim"], alpha=True, attn_cls=AlphaClipAttention)


def clip_model(cfg: dict) -> nn.Module:
    """OpenAI CLIP (ViT image tower under ``visual.``, text tower at the top), CLIP's text init."""
    return M.build({k: cfg[k] for k in M.TINY}, alpha=False)


def randomise_alpha_conv(visual: nn.Module) -> None:
    """Alpha-CLIP starts conv1_alpha at zero; random weights must exercise the alpha path too."""
    nn.init.kaiming_uniform_(visual.conv1_alpha.weight, a=math.sqrt(5))  # nn.Conv2d's own init


# ---- checkpoints -------------------------------------------------------------------------------

def read_state_dict(path: str) -> dict:
    """A float32 state dict from an OpenAI TorchScript archive or a plain (possibly fp16) ``.pth``."""
    try:
        sd = torch.jit.load(path, map_location="cpu").state_dict()
    except RuntimeError:  # not a TorchScript archive: a pickled state dict
        sd = torch.load(path, map_location="cpu")
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
        sd = sd["state_dict"]
    if isinstance(sd, nn.Module):
        sd = sd.state_dict()
    if not isinstance(sd, dict) or not sd:
        raise ValueError(f"{path}: not a state dict or TorchScript model")
    return {k.removeprefix("module."): (v.float() if torch.is_tensor(v) and v.is_floating_point() else v)
            for k, v in sd.items()}


def alpha_visual_state(sd: dict, path: str) -> dict:
    """The vision tower's keys of an Alpha-CLIP checkpoint: released ``.pth`` or a full model."""
    if any(k.startswith("visual.") for k in sd):
        sd = {k[len("visual."):]: v for k, v in sd.items() if k.startswith("visual.")}
    if "conv1_alpha.weight" not in sd:
        raise ValueError(f"{path}: no conv1_alpha.weight — not an Alpha-CLIP vision checkpoint")
    lora = [k for k in sd if "lora_" in k]
    if lora:
        raise ValueError(f"{path}: has LoRA weights ({lora[0]}, …); merge them first (use a 'fultune' checkpoint)")
    # A CLIP-style attention (in_proj_weight) is renamed the way Alpha-CLIP's own loader does.
    return {k.replace("attn.in_proj_weight", "attn.in_proj.weight").replace("attn.in_proj_bias", "attn.in_proj.bias"): v
            for k, v in sd.items()}


def clip_state(sd: dict, path: str) -> dict:
    if "text_projection" not in sd or "visual.proj" not in sd:
        raise ValueError(f"{path}: no text_projection / visual.proj — not an OpenAI CLIP ViT checkpoint")
    # A causal mask saved as a buffer (TorchScript keeps non-persistent ones) is rebuilt, not loaded.
    return {k: v for k, v in sd.items() if k not in CLIP_METADATA_KEYS and not k.endswith(".attn_mask")}


def _layers(sd: dict, prefix: str) -> int:
    return len({k[len(prefix):].split(".")[0] for k in sd if k.startswith(prefix)})


def vision_config(sd: dict, prefix: str = "") -> dict:
    """ViT sizes read from a vision state dict's shapes (``prefix`` "visual." for a full CLIP)."""
    conv = sd[prefix + "conv1.weight"]
    width, patch = conv.shape[0], conv.shape[-1]
    grid = round((sd[prefix + "positional_embedding"].shape[0] - 1) ** 0.5)
    return dict(embed_dim=sd[prefix + "proj"].shape[1], image_size=patch * grid, patch_size=patch,
                vision_width=width, vision_layers=_layers(sd, prefix + "transformer.resblocks."),
                vision_heads=width // 64)


def text_config(sd: dict) -> dict:
    width = sd["ln_final.weight"].shape[0]
    return dict(embed_dim=sd["text_projection"].shape[1], context_length=sd["positional_embedding"].shape[0],
                vocab_size=sd["token_embedding.weight"].shape[0], text_width=width,
                text_layers=_layers(sd, "transformer.resblocks."), text_heads=width // 64)


def check_arch(found: dict, arch: str, keys, what: str) -> None:
    """Refuse a checkpoint whose shapes disagree with ``--clip-arch``, naming every difference."""
    want = ARCHS[arch]
    diffs = [f"{k} {found[k]} (expected {want[k]})" for k in keys if found[k] != want[k]]
    if diffs:
        raise ValueError(f"{what} does not match {arch}: {', '.join(diffs)}")


def checked_alpha_visual_state(sd: dict, arch: str, path: str) -> dict:
    """The vision tower's state dict of a read Alpha-CLIP checkpoint, its shapes checked against ``arch``."""
    sd = alpha_visual_state(sd, path)
    check_arch(vision_config(sd), arch, VISION_KEYS, f"Alpha-CLIP checkpoint {path}")
    return sd


def checked_clip_state(sd: dict, arch: str, path: str):
    """(state dict, module config) of a read OpenAI CLIP checkpoint; the text tower must match ``arch``,
    the image tower is taken as the checkpoint has it (any ViT size loads strictly)."""
    sd = clip_state(sd, path)
    check_arch(text_config(sd), arch, TEXT_KEYS, f"CLIP checkpoint {path} (text tower)")
    return sd, dict(ARCHS[arch], **{k: v for k, v in vision_config(sd, "visual.").items() if k != "embed_dim"})


def load_alpha_visual(path: str, arch: str) -> nn.Module:
    sd = checked_alpha_visual_state(read_state_dict(path), arch, path)
    visual = alpha_visual(ARCHS[arch])
    visual.load_state_dict(sd, strict=True)
    return visual


def load_clip(path: str, arch: str) -> nn.Module:
    sd, cfg = checked_clip_state(read_state_dict(path), arch, path)
    model = clip_model(cfg)
    model.load_state_dict(sd, strict=True)
    return model


def random_towers(arch: str, seed: int):
    """(Alpha-CLIP visual, CLIP) at the official sizes with seeded random weights (CLIP's init)."""
    torch.manual_seed(seed)
    clip = clip_model(ARCHS[arch])
    visual = alpha_visual(ARCHS[arch])
    randomise_alpha_conv(visual)
    return visual.eval(), clip.eval()
