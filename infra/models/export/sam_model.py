"""SAM (segment-anything) ViT-B / ViT-L / ViT-H, written for export by this project.

Every module and parameter sits where segment-anything puts it, so an official checkpoint
(`sam_vit_b_01ec64.pth`, `sam_vit_l_0b3195.pth`, `sam_vit_h_4b8939.pth`) loads with `strict=True`.
The prompt encoder and the decoder pieces reuse this project's tiny SAM (`segmenter.model`), whose
modules already carry SAM's names; what differs from the tiny one is spelled out here:

- the image encoder is SAM's ViT: 16x16 patches of a 1024^2 input, absolute position embedding,
  windowed attention (window 14, the 64x64 grid zero-padded to 70x70) in every block except the
  arch's global-attention blocks, decomposed relative position embeddings in every block;
- the decoder is wider (8 heads, MLP 2048 as SAM's `MLPBlock` with `lin1`/`lin2`), and padding points
  (label -1) take part in attention exactly as in segment-anything (the tiny model hides them;
  official weights expect them).
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from segmenter.model import LayerNorm2d, MaskDecoder, PromptEncoder, TwoWayTransformer

IMAGE_SIZE = 1024          # S: longest side after resize; the encoder input is S x S
PATCH_SIZE = 16
EMBED_SIZE = IMAGE_SIZE // PATCH_SIZE   # 64: image embeddings are [1, 256, 64, 64]
PROMPT_DIM = 256
MASK_SIZE = 4 * EMBED_SIZE             # 256: low-res masks and mask prompts
WINDOW_SIZE = 14
PIXEL_MEAN = [123.675, 116.28, 103.53]
PIXEL_STD = [58.395, 57.12, 57.375]
MASK_THRESHOLD = 0.0


@dataclass(frozen=True)
class VitArch:
    embed_dim: int
    depth: int
    heads: int
    global_attn_indexes: tuple


# segment-anything's build_sam.py
VIT_ARCHS = {
    "vit_b": VitArch(768, 12, 12, (2, 5, 8, 11)),
    "vit_l": VitArch(1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": VitArch(1280, 32, 16, (7, 15, 23, 31)),
}


class MLPBlock(nn.Module):
    """SAM's two-layer MLP (`lin1`, act, `lin2`)."""

    def __init__(self, dim, hidden, act=nn.GELU):
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)
        self.act = act()

    def forward(self, x):
        return self.lin2(self.act(self.lin1(x)))


# ----------------------------------------------------------------------------- ViT image encoder

def window_partition(x, window):
    """[B, H, W, C] -> ([B * nWin, window, window, C], (Hp, Wp)), zero-padding bottom/right."""
    b, h, w, c = x.shape
    pad_h, pad_w = (window - h % window) % window, (window - w % window) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.reshape(b, hp // window, window, wp // window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, window, window, c), (hp, wp)


def window_unpartition(windows, window, padded_hw, hw):
    """Inverse of `window_partition`, dropping the padding."""
    (hp, wp), (h, w) = padded_hw, hw
    b = windows.shape[0] // ((hp // window) * (wp // window))
    x = windows.reshape(b, hp // window, wp // window, window, window, -1).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, hp, wp, -1)[:, :h, :w, :]


def relative_position_table(size, rel_pos):
    """[size, size, C]: the embedding of offset (q - k) for every query/key pair along one axis.

    SAM's tables have 2 * size - 1 rows (offsets -(size-1)..size-1), so no resampling is needed."""
    if rel_pos.shape[0] != 2 * size - 1:
        raise ValueError(f"relative position table has {rel_pos.shape[0]} rows, expected {2 * size - 1}")
    offsets = torch.arange(size)[:, None] - torch.arange(size)[None, :] + (size - 1)
    return rel_pos[offsets]


def add_decomposed_rel_pos(attn, q, rel_pos_h, rel_pos_w, hw):
    """attn [B, HW, HW] + q.Rh (per key row) + q.Rw (per key column), as in MViTv2 / SAM.

    Written with batched matmuls (one per query row / column) instead of einsum."""
    h, w = hw
    b, _, c = q.shape
    r_q = q.reshape(b, h, w, c)
    table_h = relative_position_table(h, rel_pos_h)                      # [h, kh, c]
    table_w = relative_position_table(w, rel_pos_w)                      # [w, kw, c]
    rel_h = (r_q.permute(1, 0, 2, 3) @ table_h.transpose(1, 2)[:, None]).permute(1, 0, 2, 3)  # [b, h, w, kh]
    rel_w = (r_q.permute(2, 0, 1, 3) @ table_w.transpose(1, 2)[:, None]).permute(1, 2, 0, 3)  # [b, h, w, kw]
    attn = attn.reshape(b, h, w, h, w) + rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]
    return attn.reshape(b, h * w, h * w)


class VitAttention(nn.Module):
    """Multi-head self-attention over an [B, H, W, C] grid with relative position embeddings."""

    def __init__(self, dim, heads, grid):
        super().__init__()
        self.heads = heads
        head_dim = dim // heads
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.rel_pos_h = nn.Parameter(torch.zeros(2 * grid - 1, head_dim))
        self.rel_pos_w = nn.Parameter(torch.zeros(2 * grid - 1, head_dim))

    def forward(self, x):
        b, h, w, _ = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, b * self.heads, h * w, -1).unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = add_decomposed_rel_pos(attn, q, self.rel_pos_h, self.rel_pos_w, (h, w)).softmax(dim=-1)
        x = (attn @ v).reshape(b, self.heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1)
        return self.proj(x)


class VitBlock(nn.Module):
    """Pre-norm block; `window` 0 = global attention over the whole 64x64 grid."""

    def __init__(self, dim, heads, window, grid=EMBED_SIZE):
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = VitAttention(dim, heads, window or grid)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLPBlock(dim, 4 * dim)

    def forward(self, x):
        shortcut = x
        x = self.norm1(x)
        if self.window:
            hw = (x.shape[1], x.shape[2])
            x, padded = window_partition(x, self.window)
            x = window_unpartition(self.attn(x), self.window, padded, hw)
        else:
            x = self.attn(x)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=PATCH_SIZE, stride=PATCH_SIZE)

    def forward(self, x):
        return self.proj(x).permute(0, 2, 3, 1)   # [B, 64, 64, C]


def sam_neck(in_dim):
    """SAM's neck: 1x1 conv, LayerNorm2d, 3x3 conv, LayerNorm2d (no biases) -> 256 channels."""
    return nn.Sequential(
        nn.Conv2d(in_dim, PROMPT_DIM, 1, bias=False), LayerNorm2d(PROMPT_DIM),
        nn.Conv2d(PROMPT_DIM, PROMPT_DIM, 3, padding=1, bias=False), LayerNorm2d(PROMPT_DIM))


class ImageEncoderViT(nn.Module):
    """Normalised, padded [B, 3, 1024, 1024] -> image_embeddings [B, 256, 64, 64]."""

    def __init__(self, arch: VitArch):
        super().__init__()
        self.patch_embed = PatchEmbed(arch.embed_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, EMBED_SIZE, EMBED_SIZE, arch.embed_dim))
        self.blocks = nn.ModuleList(
            VitBlock(arch.embed_dim, arch.heads, 0 if i in arch.global_attn_indexes else WINDOW_SIZE)
            for i in range(arch.depth))
        self.neck = sam_neck(arch.embed_dim)

    def forward(self, x):
        x = self.patch_embed(x) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.neck(x.permute(0, 3, 1, 2))


# ----------------------------------------------------------------------------- decoder

def sam_mask_decoder():
    """SAM's mask decoder: the tiny model's modules at SAM's sizes (8 heads, MLP 2048 as SAM's
    MLPBlock, IoU head 256 wide); padding tokens are not hidden (predict_masks without labels)."""
    transformer = TwoWayTransformer(depth=2, dim=PROMPT_DIM, heads=8, mlp_dim=2048,
                                    make_mlp=lambda: MLPBlock(PROMPT_DIM, 2048, nn.ReLU))
    return MaskDecoder(PROMPT_DIM, num_multimask_outputs=3, iou_head_hidden_dim=256, transformer=transformer)


class Sam(nn.Module):
    """Image encoder + prompt encoder + mask decoder under segment-anything's attribute names.

    `decode` has the tiny model's signature, so `segmenter.onnx_wrappers` export it unchanged."""

    image_size = IMAGE_SIZE

    def __init__(self, image_encoder):
        super().__init__()
        self.image_encoder = image_encoder
        self.prompt_encoder = PromptEncoder(PROMPT_DIM, 16, image_size=IMAGE_SIZE, embed_size=EMBED_SIZE)
        self.mask_decoder = sam_mask_decoder()

    def decode(self, embeddings, coords, labels, mask_input, has_mask_input):
        sparse = self.prompt_encoder.embed_points(coords, labels)
        dense = self.prompt_encoder.embed_masks(mask_input, has_mask_input)
        pe = self.prompt_encoder.get_dense_pe()
        return self.mask_decoder.predict_masks(embeddings, pe, sparse, dense)


ARCHS = ("vit_b", "vit_l", "vit_h", "mobile_sam")


def build_sam(arch):
    """An untrained SAM of `arch` (PyTorch's default initialisation, as segment-anything's)."""
    if arch == "mobile_sam":
        from .tiny_vit import TinyViT   # noqa: PLC0415 (only MobileSAM needs it)
        return Sam(TinyViT())
    if arch not in VIT_ARCHS:
        raise ValueError(f"unknown SAM arch {arch!r}; expected one of {', '.join(ARCHS)}")
    return Sam(ImageEncoderViT(VIT_ARCHS[arch]))


def randomise_untrained(sam, generator):
    """Give the parameters SAM initialises to constants (zeros / ones) seeded random values, so a
    random-weight parity check exercises every path: position embeddings (abs and relative),
    norm affines and BatchNorm running statistics. Scales stay SAM-like (std 0.02 around the init)."""
    with torch.no_grad():
        for name, p in sam.named_parameters():
            if name.endswith(("pos_embed", "rel_pos_h", "rel_pos_w", "attention_biases")):
                p.copy_(torch.randn(p.shape, generator=generator) * 0.02)
        for m in sam.modules():
            if isinstance(m, (nn.LayerNorm, LayerNorm2d, nn.BatchNorm2d)):
                m.weight.add_(torch.randn(m.weight.shape, generator=generator) * 0.02)
                m.bias.add_(torch.randn(m.bias.shape, generator=generator) * 0.02)
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
                m.running_var.copy_(1 + torch.rand(m.running_var.shape, generator=generator) * 0.5)


def load_sam(arch, checkpoint=None, seed=None):
    """`checkpoint` (a plain state dict, loaded strictly) or seeded random weights; eval mode."""
    if checkpoint is None:
        seed = 0 if seed is None else seed
        torch.manual_seed(seed)
        sam = build_sam(arch)
        randomise_untrained(sam, torch.Generator().manual_seed(seed))
    else:
        sam = build_sam(arch)
        state = torch.load(checkpoint, map_location="cpu")
        sam.load_state_dict(state, strict=True)
    return sam.eval()
